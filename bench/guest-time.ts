/**
 * Guest time per request: the share of perf samples (cpu-clock) that fall in guest functions,
 * of an in-process loop over the simulated kernel, scaled to ns per request. It is the measure
 * of docs/PERFORMANCE.md's guest rounds: other work on a shared machine moves it far less than
 * a server's CPU per request, and it sees a few ns.
 *
 *   node --import tsx bench/guest-time.ts [--depth 1] [--peers 50] [--rounds 20000]
 *        [--warm 2000] [--runs 5] [--top 25] [--head wrk|browser] GUEST.wasm [GUEST2.wasm ...]
 *
 * The loop: `--peers` connections each write `--depth` wrk-like `GET /` heads per round, then
 * the loop runs until idle and every peer reads its answers. `--depth 1` is keep-alive (one
 * readable event per connection per wake-up, `--peers` events per wake-up); `--depth 16` is
 * the bench's pipelined scenario. `--head browser` sends a browser-like head instead (User-Agent,
 * Accept, Accept-Language and Accept-Encoding after Host). Echo guests answer with the bytes, which works the same.
 * The guests alternate, `--runs` times each; the medians are printed, and with `--top` the
 * hottest guest functions of each guest's last run. A release build with a name section names
 * them (`--debug` adds only that: `npx asc assembly/apps/hello.ts --config asconfig.json
 * --target release --debug -o /tmp/hello.wasm`); without one they are `wasm-function[N]`.
 * Needs `perf` (linux-perf).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt, positionals: guests } = parseArgs({
  allowPositionals: true,
  options: {
    depth: { type: 'string', default: '1' },
    peers: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '20000' },
    warm: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '5' },
    top: { type: 'string', default: '0' },
    head: { type: 'string', default: 'wrk' },
    child: { type: 'boolean', default: false },
  },
});
const depth = Number(opt.depth);
const peers = Number(opt.peers);
const rounds = Number(opt.warm) + Number(opt.rounds);
const requests = rounds * peers * depth;

const HEADS: Record<string, string> = {
  wrk: 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
  browser:
    'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
    'Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n',
};

/** The loop itself, in the process perf records. */
async function child(wasm: string): Promise<void> {
  const { simulate } = await import('../host/testing.ts');
  const sim = simulate(new WebAssembly.Module(readFileSync(wasm)));
  const conns = Array.from({ length: peers }, () => sim.connect());
  sim.run();
  const head = HEADS[opt.head!];
  if (head === undefined) throw new Error(`--head: wrk or browser, not ${opt.head}`);
  const input = Buffer.from(head.repeat(depth), 'latin1');
  for (let r = 0; r < rounds; r++) {
    for (const c of conns) c.write(input);
    sim.run();
    // Every round is answered in that round: a peer without an answer means the guest stalled.
    for (const c of conns) if (c.read().length === 0) throw new Error(`no answer in round ${r}`);
  }
}

/** Guest functions as perf-basic-prof names them (a name section's, or wasm-function[N]). */
const GUEST_SYMBOL = /^JS:\*?(assembly\/|~lib\/|start:|wasm-function\[)/;

interface Run {
  guestNs: number;
  allNs: number;
  top: [string, number][];
}

/** One recorded run of `wasm`: guest and total ns per request, and guest ns by function. */
function measure(wasm: string, self: string): Run {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-guest-time-'));
  try {
    const data = join(dir, 'perf.data');
    const args = [...process.argv.slice(2).filter((a) => !guests.includes(a)), '--child', wasm];
    const node = [process.execPath, '--perf-basic-prof', '--import', 'tsx', self, ...args];
    const rec = ['record', '-q', '-e', 'cpu-clock', '-F', '4999', '-o', data, '--', ...node];
    const r = spawnSync('perf', rec, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`perf record failed (${r.error?.message ?? r.status})`);
    const report = spawnSync(
      'perf',
      ['report', '-i', data, '--stdio', '--no-children', '--sort', 'sym', '--percent-limit', '0'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    ).stdout;
    return parseReport(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseReport(report: string): Run {
  const events = Number(/Event count \(approx\.\): (\d+)/.exec(report)?.[1] ?? 0);
  const nsPerPct = events / 100 / requests; // cpu-clock events are ns
  const byFunction = new Map<string, number>();
  let guest = 0;
  for (const line of report.split('\n')) {
    const m = /^\s+([\d.]+)%\s+\[.\]\s+(.*?)\s*$/.exec(line);
    if (!m || !GUEST_SYMBOL.test(m[2]!)) continue;
    const pct = Number(m[1]);
    guest += pct;
    const name = m[2]!
      .slice(3)
      .replace(/^\*/, '')
      .replace(/-\d+-(turbofan|liftoff)$/, '');
    byFunction.set(name, (byFunction.get(name) ?? 0) + pct * nsPerPct);
  }
  const top = [...byFunction].sort((a, b) => b[1] - a[1]);
  return { guestNs: guest * nsPerPct, allNs: events / requests, top };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

if (opt.child) {
  await child(guests[0]!);
} else {
  if (guests.length === 0) throw new Error('usage: guest-time.ts [options] GUEST.wasm ...');
  const self = fileURLToPath(import.meta.url);
  const runs = new Map<string, Run[]>(guests.map((g) => [g, []]));
  const shape = `${peers} peers x ${depth} request(s) per round, ${requests} requests per run`;
  console.log(`guest ns per request (${shape}):`);
  for (let i = 0; i < Number(opt.runs); i++) {
    for (const g of guests) {
      const run = measure(g, self);
      runs.get(g)!.push(run);
      console.log(`  ${g}: guest ${run.guestNs.toFixed(1)} ns, whole loop ${run.allNs.toFixed(0)}`);
    }
  }
  for (const [g, rs] of runs) {
    const all = rs.map((r) => r.guestNs.toFixed(1)).join(' ');
    console.log(`${g}: median ${median(rs.map((r) => r.guestNs)).toFixed(1)} ns (${all})`);
    for (const [name, ns] of rs.at(-1)!.top.slice(0, Number(opt.top)))
      console.log(`  ${ns.toFixed(1).padStart(6)} ns  ${name}`);
  }
}
