/**
 * Names for a release guest's functions, so profiles can say `~lib/.../service` instead of
 * `wasm-function[41]`. Release guests carry no name section; this compiles the same entry with
 * the same release options plus `--debug` (which only adds a name section), checks that every
 * non-custom section is byte-identical to the guest being profiled, and then reads the names.
 * If the sources changed since the guest was built, the sections differ and no names are given.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

interface Section {
  id: number;
  name: string;
  body: Buffer;
}

function sections(b: Buffer): Section[] {
  let i = 8; // magic + version
  const leb = () => {
    let r = 0;
    let shift = 0;
    let x: number;
    do {
      x = b[i++]!;
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  const out: Section[] = [];
  while (i < b.length) {
    const id = b[i++]!;
    const len = leb();
    const start = i;
    let name = '';
    if (id === 0) {
      const n = leb();
      name = b.subarray(i, i + n).toString('utf8');
    }
    out.push({ id, name, body: b.subarray(start, start + len) });
    i = start + len;
  }
  return out;
}

/** Function index -> name from a "name" custom section (subsection 1). */
function functionNames(name: Buffer): Map<number, string> {
  let i = 0;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let x: number;
    do {
      x = name[i++]!;
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  leb(); // the section's own name length ...
  i += 4; // ... "name"
  const out = new Map<number, string>();
  while (i < name.length) {
    const sub = name[i++]!;
    const size = leb();
    const end = i + size;
    if (sub === 1) {
      for (let n = leb(); n > 0; n--) {
        const idx = leb();
        const len = leb();
        out.set(idx, name.subarray(i, i + len).toString('utf8'));
        i += len;
      }
    }
    i = end;
  }
  return out;
}

/** Function index -> name from the name section of `wasm`, or null without one. */
export function nameSectionNames(wasm: Buffer): Map<number, string> | null {
  const ns = sections(wasm).find((x) => x.id === 0 && x.name === 'name');
  return ns ? functionNames(ns.body) : null;
}

/** Names for `built` (a copy of wasm/NAME.wasm), compiled from assembly/apps/NAME.ts; the
 *  compile runs in the current directory, which must be the repository root. */
export async function guestFunctionNames(built: string): Promise<Map<number, string> | null> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-names-'));
  try {
    const entry = `assembly/apps/${basename(built, '.wasm')}.ts`;
    const out = join(dir, 'named.wasm');
    const { default: asc } = await import('assemblyscript/asc');
    const sink = { write: () => true };
    const r = await asc.main(
      [entry, '--config', 'asconfig.json', '--target', 'release', '--debug', '-o', out],
      { stdout: sink, stderr: sink },
    );
    if (r.error) return null;
    const named = sections(readFileSync(out));
    const ours = sections(readFileSync(built));
    const code = (s: Section[]) => s.filter((x) => x.id !== 0);
    const a = code(named);
    const b = code(ours);
    if (a.length !== b.length || a.some((x, k) => x.id !== b[k]!.id || !x.body.equals(b[k]!.body)))
      return null;
    const ns = named.find((x) => x.id === 0 && x.name === 'name');
    return ns ? functionNames(ns.body) : null;
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
