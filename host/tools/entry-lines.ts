/**
 * The build lines an AssemblyScript entry may carry, read from its source text:
 *  - `// @runtime NAME` as its first line: the AssemblyScript runtime to build with instead of
 *    asconfig's `stub` (apps that allocate per request, strings, need `incremental`).
 *  - `// @limits [DECL...] [name=default...]` on any line: the limits the guest reads (docs/ABI.md,
 *    "Limits"). Each DECL is wasmloop's assembly/limits/DECL.json, or a path ending in .json
 *    (relative to the directory the build runs in), merged in order; then each name=default
 *    changes the default of a declared limit. The declaration goes into the module as the custom
 *    section `wasmloop.limits` (LIMITS_SECTION), appended after the compiler has written it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasmloopError } from '../errors.ts';
import { LIMITS_SECTION } from '../limits.ts';
import { writeU32 } from '../wasm-binary.ts';

/** The runtime the entry's first line asks for, or undefined. */
export function runtimeLine(source: string): string | undefined {
  return /^\/\/ @runtime (\w+)/.exec(source)?.[1];
}

/** The limit declaration the entry's `// @limits` line asks for, as JSON text, or null when it
 *  has no such line. `limitsDir` holds the named declarations (wasmloop's assembly/limits). */
export function limitsLine(source: string, entry: string, limitsDir: string): string | null {
  const m = /^\/\/ @limits\b(.*)$/m.exec(source);
  if (!m) return null;
  const declared: Record<string, Record<string, unknown>> = {};
  for (const word of m[1]!.trim().split(/\s+/)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const name = word.slice(0, eq);
    if (eq < 0) {
      const path = word.endsWith('.json') ? word : join(limitsDir, `${word}.json`);
      Object.assign(declared, readDeclaration(path, entry));
    } else if (Object.hasOwn(declared, name)) {
      declared[name] = { ...declared[name], default: Number(word.slice(eq + 1)) };
    } else {
      throw buildError(`${entry}: @limits sets ${word} before declaring it`);
    }
  }
  return JSON.stringify(declared);
}

function readDeclaration(path: string, entry: string): Record<string, Record<string, unknown>> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  } catch (err) {
    throw buildError(`${entry}: @limits cannot read ${path}: ${(err as Error).message}`);
  }
}

export function buildError(message: string): WasmloopError {
  return new WasmloopError('ERR_WASMLOOP_BUILD', message);
}

/** `module` with the custom section LIMITS_SECTION holding `text` appended. */
export function withLimitsSection(module: Uint8Array, text: string): Uint8Array {
  const name = Buffer.from(LIMITS_SECTION);
  const body = Buffer.concat([Buffer.from(writeU32(name.length)), name, Buffer.from(text)]);
  return Buffer.concat([module, Buffer.from([0]), Buffer.from(writeU32(body.length)), body]);
}
