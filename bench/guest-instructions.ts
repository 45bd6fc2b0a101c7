/**
 * Guest instructions per request, counted rather than sampled: guest-time.ts's in-process loop
 * run under valgrind's callgrind twice, `--rounds` 100 and 700 after 200 of warm-up, and the
 * difference divided by the requests between them. Repeated runs agree to the instruction, so
 * a change of a few instructions per request shows, where samples resolve ~4 ns at best. It
 * counts instructions, not time (docs/PERFORMANCE.md, SDK seventh round, has both side by side).
 *
 *   node --import tsx bench/guest-instructions.ts [--depth 16] [--peers 50] [--top 25] [--head browser]
 *        GUEST.wasm [GUEST2.wasm ...]
 *
 * How guest code is told apart: V8 calls a wasm function through its jump table (on x64,
 * 5-byte slots, 12 to a 64-byte line), and callgrind names code without symbols by the address
 * it was entered at, so a slot's count is its function's own instructions, inlined callees
 * included. The table is the page that holds the most such entries; slot k is the function
 * after the imports' k. Node runs with --no-liftoff (TurboFan code from the first call) and
 * --single-threaded. Names need a name section (see guest-time.ts). Needs valgrind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nameSectionNames } from './wasm-names.ts';

const { values: opt, positionals: guests } = parseArgs({
  allowPositionals: true,
  options: {
    depth: { type: 'string', default: '16' },
    peers: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
    head: { type: 'string', default: 'wrk' },
  },
});
const ROUNDS = [100, 700];
const requests = (ROUNDS[1]! - ROUNDS[0]!) * Number(opt.peers) * Number(opt.depth);
const loop = fileURLToPath(new URL('guest-time.ts', import.meta.url));
const tsx = fileURLToPath(import.meta.resolve('tsx'));

/** One callgrind run of the loop over `wasm`, `rounds` rounds after the warm-up. */
function record(wasm: string, rounds: number, out: string): Promise<void> {
  const node = [process.execPath, '--no-liftoff', '--single-threaded', '--import', tsx, loop];
  const args = ['--child', '--depth', opt.depth!, '--peers', opt.peers!, '--head', opt.head!];
  args.push('--warm', '200');
  const vg = ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`];
  const child = spawn('valgrind', [...vg, ...node, ...args, '--rounds', `${rounds}`, wasm], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`valgrind failed (${code}): ${err.slice(-500)}`)),
    ),
  );
}

/** Instructions by jump-table slot, and in all, from a callgrind output file. */
function slots(out: string): { total: number; bySlot: Map<number, number> } {
  const r = spawnSync('callgrind_annotate', ['--threshold=100', out], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const unknown: [bigint, number][] = [];
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ir = Number(m[1]!.replaceAll(',', ''));
    if (m[2]!.startsWith('PROGRAM TOTALS')) total = ir;
    const a = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]/.exec(m[2]!);
    if (a) unknown.push([BigInt(`0x${a[1]}`), ir]);
  }
  const pages = new Map<bigint, number>();
  for (const [addr] of unknown) pages.set(addr & ~0xfffn, (pages.get(addr & ~0xfffn) ?? 0) + 1);
  const table = [...pages].reduce((x, y) => (y[1] > x[1] ? y : x), [0n, 0])[0];
  const bySlot = new Map<number, number>();
  for (const [addr, ir] of unknown) {
    const off = Number(addr - table);
    if (off < 0 || off >= 0x4000 || (off & 63) % 5 !== 0 || (off & 63) >= 60) continue;
    const slot = (off >> 6) * 12 + (off & 63) / 5;
    bySlot.set(slot, (bySlot.get(slot) ?? 0) + ir);
  }
  return { total, bySlot };
}

async function count(wasm: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-guest-instr-'));
  try {
    const outs = ROUNDS.map((r) => join(dir, `cg.${r}`));
    await Promise.all(ROUNDS.map((r, k) => record(wasm, r, outs[k]!)));
    const [a, b] = outs.map(slots);
    const bytes = readFileSync(wasm);
    const mod = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(mod).filter((i) => i.kind === 'function').length;
    const names = nameSectionNames(bytes) ?? new Map<number, string>();
    const rows = [...b!.bySlot].map(([slot, ir]): [string, number] => {
      const idx = imports + slot;
      return [
        names.get(idx) ?? `wasm-function[${idx}]`,
        (ir - (a!.bySlot.get(slot) ?? 0)) / requests,
      ];
    });
    rows.sort((x, y) => y[1] - x[1]);
    const guest = rows.reduce((s, [, n]) => s + n, 0);
    const all = (b!.total - a!.total) / requests;
    console.log(
      `${wasm}: guest ${guest.toFixed(1)} instructions per request, whole loop ${all.toFixed(0)}`,
    );
    for (const [name, n] of rows.slice(0, Number(opt.top)))
      if (n >= 0.05) console.log(`  ${n.toFixed(1).padStart(7)}  ${name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (guests.length === 0) throw new Error('usage: guest-instructions.ts [options] GUEST.wasm ...');
const shape = `${opt.peers} peers x ${opt.depth} request(s) per round, ${requests} requests counted`;
console.log(`guest instructions per request (${shape}):`);
for (const g of guests) await count(g);
