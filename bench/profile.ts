/**
 * Where wasmloop's CPU goes under load (the "Findings" of docs/PERFORMANCE.md).
 *
 *   node --import tsx bench/profile.ts [--seconds 5] [--conns 50] [--guest hello|echo|greet|c-echo]
 *        [--rounds 2] [--driver blocking|libuv] [--pipeline 16] [--no-perf]
 *
 * `--pipeline N` (HTTP guests) loads with wrk's N requests per write (bench/pipeline.lua), the
 * bench's pipelined scenario, instead of one request at a time.
 *
 * `--guest c-echo` is the WASI command examples/c-echo/echo.wasm under `wasmloop run`, against
 * the same C built natively; perf only (a command ends by SIGINT's default action, so V8 never
 * writes its --cpu-prof profile).
 *
 * 1. V8's sampling profiler: the server runs as
 *      node --cpu-prof --cpu-prof-dir=DIR bin/wasmloop.js run wasm/hello.wasm --tcplisten ...
 *    on CPU 0, is warmed up, loaded with wrk (echo-load for the echo guest) on CPU 1, and
 *    stopped with SIGINT, which writes the profile. Self time is summed per function and per
 *    category. V8 has no frame for an N-API callback, so the time of recv/send/epollWait, and
 *    of the syscalls they make, shows as self time of the JS function that called them
 *    (instance.ts's hostcalls, loop.ts's tick): this profile locates JS and guest time, not
 *    kernel time. Bundle lines are mapped back to host/*.ts through esbuild's section markers;
 *    guest functions are named when the names can be recovered (bench/wasm-names.ts).
 * 2. perf (unless --no-perf, and if `perf record -e cpu-clock` works): the same load against a
 *    server started with --perf-basic-prof and against the C server, alternating, `rounds`
 *    times each; samples are grouped into categories (kernel, guest wasm, N-API path, V8,
 *    host JS, the shim, libuv, libc) and scaled to the server's CPU time per request, so the
 *    two servers can be compared line by line.
 * Both run from a private copy of the build (bench/snapshot.ts). Prints a Markdown summary and
 * writes it to bench/results/profile.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildC } from './build.ts';
import { echoLoad, wrk, type LoadResult } from './load.ts';
import { cpuTime } from './measure.ts';
import {
  freePort,
  killAllNow,
  LOAD_CPU,
  SERVER_CPU,
  start,
  stop,
  stopAll,
  waitExit,
  waitForPort,
  type Proc,
} from './procs.ts';
import { findTools } from './tools.ts';
import { WASI_ECHO } from './servers.ts';
import { snapshotBuild } from './snapshot.ts';
import { guestFunctionNames } from './wasm-names.ts';
import { cpuProfileMarkdown, type CpuProfile } from './cpuprofile.ts';
import {
  meanBreakdown,
  parsePerfReport,
  perfMarkdown,
  type PerfBreakdown,
} from './perf-profile.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
process.chdir(root); // asc (guest names) and the wasmloop CLI resolve paths from the repo root
const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    conns: { type: 'string', default: '50' },
    guest: { type: 'string', default: 'hello' },
    'no-perf': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    driver: { type: 'string' },
    pipeline: { type: 'string', default: '1' },
  },
});
const seconds = Number(opt.seconds);
const rounds = Math.max(1, Number(opt.rounds));
const conns = Number(opt.conns);
const pipeline = Math.max(1, Number(opt.pipeline));
const depth = pipeline > 1 ? ` × ${pipeline} pipelined` : '';
const wasiCommand = opt.guest === 'c-echo';
const kind = opt.guest === 'echo' || wasiCommand ? 'echo' : 'http';
// any HTTP guest in wasm/ (greet: the SDK app), or the WASI example
const guest = wasiCommand ? WASI_ECHO : `wasm/${opt.guest ?? 'hello'}.wasm`;
const cServer = wasiCommand ? 'c-echo-poll' : kind === 'http' ? 'http-server' : 'echo-server';
const tools = findTools(false);
if (!tools.cc) throw new Error('profile needs a C compiler (for the load generator)');
const bins = buildC(benchDir, tools.cc);
// The servers run from a private copy of the build (bench/snapshot.ts), like the bench's.
const snapRoot = snapshotBuild(root, join(benchDir, 'build', 'snapshot-profile'));
const names = await guestFunctionNames(join(snapRoot, guest));
/** "wasm-function[41]" -> the guest function's name, when the names could be recovered. */
const wasmName = (s: string) =>
  names
    ? s.replace(/wasm-function\[(\d+)\](-\d+-\w+)?/g, (m, i: string) => names.get(Number(i)) ?? m)
    : s;
const out: string[] = [];
const say = (s = '') => {
  out.push(s);
  process.stdout.write(s + '\n');
};

/** Warm-up, then the measured load; returns the measured load's result. */
async function load(port: number): Promise<{ warm: LoadResult; main: LoadResult }> {
  const warm = await echoLoad(bins['echo-load'], { port, conns, mode: kind, seconds: 1 });
  const main =
    kind === 'http' && tools.wrk
      ? await wrk(tools.wrk, benchDir, { port, conns, seconds, pipeline })
      : await echoLoad(bins['echo-load'], { port, conns, mode: kind, seconds });
  return { warm, main };
}

async function server(nodeFlags: string[], port: number): Promise<Proc> {
  const driver = opt.driver ? ['--driver', opt.driver] : [];
  const guestFlags = wasiCommand ? [] : ['--grace-ms', '200', ...driver];
  const p = start(
    'wasmloop',
    SERVER_CPU,
    process.execPath,
    [
      ...nodeFlags,
      join(snapRoot, 'bin/wasmloop.js'),
      'run',
      '--tcplisten',
      `127.0.0.1:${port}`,
      ...guestFlags,
      join(snapRoot, guest),
    ],
    { cwd: root },
  );
  await waitForPort(port, p);
  return p;
}

// ---- 1. V8 CPU profile ------------------------------------------------------------------------

/** The server's V8 profile under load: the loop thread's profile and bundle, and what the
 *  server did meanwhile (requests answered, its CPU time in µs). */
async function recordCpuProfile(): Promise<{
  prof: CpuProfile;
  bundle: string[];
  requests: number;
  cpuUs: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-prof-'));
  const port = await freePort();
  const p = await server(['--cpu-prof', `--cpu-prof-dir=${dir}`], port);
  let requests = 0;
  let cpuUs = 0;
  try {
    const before = cpuTime(p.pid);
    const r = await load(port);
    const after = cpuTime(p.pid);
    requests = r.warm.requests + r.main.requests;
    cpuUs = (after.user + after.sys - before.user - before.sys) * 1e6;
    process.kill(p.pid, 'SIGINT');
    await waitExit(p, 15_000);
  } finally {
    await stop(p);
  }
  // One profile per thread: the guest runs on a worker thread by default (on the main thread
  // with --workers 0), so the profile of the thread that ran dist/worker.js is the loop's.
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
  rmSync(dir, { recursive: true, force: true });
  const ranWorker = (q: CpuProfile) =>
    q.nodes.some((n) => n.callFrame.url.includes('dist/worker.js'));
  const prof = profiles.find(ranWorker) ?? profiles[0];
  if (prof === undefined) throw new Error('no .cpuprofile written');
  const bundleFile = ranWorker(prof) ? 'dist/worker.js' : 'dist/cli.js';
  const bundle = readFileSync(join(snapRoot, bundleFile), 'utf8').split('\n');
  return { prof, bundle, requests, cpuUs };
}

async function cpuProfile(): Promise<void> {
  const { prof, bundle, requests, cpuUs } = await recordCpuProfile();
  say(
    `## V8 CPU profile: ${guest} (driver: ${opt.driver ?? 'CLI default'}), ${conns} connections${depth}, ${requests} requests (1 s warm-up + ${seconds} s)`,
  );
  say();
  say(`Server CPU (utime+stime) over the load: ${(cpuUs / requests).toFixed(2)} µs/request.`);
  say();
  say(
    'V8 has no frame for native calls: the time of recv/send/epollWait and of their syscalls is self time of the JS function that made them. ' +
      'With the blocking driver that includes the time the thread sleeps in epoll_wait (loop.ts wait), so busy time can exceed CPU time. Use it to place JS and guest time; the perf section places CPU time.',
  );
  say();
  for (const l of cpuProfileMarkdown(prof, requests, bundle, wasmName)) say(l);
  say();
}

// ---- 2. perf ----------------------------------------------------------------------------------

function perfWorks(): boolean {
  if (!tools.perf) return false;
  const r = spawnSync(
    tools.perf,
    ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'],
    { stdio: 'ignore', timeout: 10_000 },
  );
  return r.status === 0;
}

async function perfProfile(
  name: string,
  startServer: (port: number) => Promise<Proc>,
): Promise<PerfBreakdown> {
  const port = await freePort();
  const p = await startServer(port);
  const data = join(tmpdir(), `wasmloop-perf-${process.pid}-${name.replace(/\W/g, '')}.data`);
  let requests = 0;
  let cpu = 0;
  try {
    await echoLoad(bins['echo-load'], { port, conns, mode: kind, seconds: 1 });
    const rec = start('perf', LOAD_CPU, tools.perf!, [
      'record',
      '-q',
      '-e',
      'cpu-clock',
      '-F',
      '2999',
      '-p',
      String(p.pid),
      '-o',
      data,
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const before = cpuTime(p.pid);
    const main =
      kind === 'http' && tools.wrk
        ? await wrk(tools.wrk, benchDir, { port, conns, seconds, pipeline })
        : await echoLoad(bins['echo-load'], { port, conns, mode: kind, seconds });
    const after = cpuTime(p.pid);
    requests = main.requests;
    cpu = after.user + after.sys - before.user - before.sys;
    process.kill(rec.pid, 'SIGINT');
    await waitExit(rec, 30_000);
  } finally {
    await stop(p);
  }
  const r = spawnSync(
    tools.perf!,
    ['report', '-i', data, '--stdio', '--no-children', '--sort', 'dso,sym', '--percent-limit', '0'],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  rmSync(data, { force: true });
  return parsePerfReport(r.stdout, requests, (cpu / requests) * 1e6, wasmName);
}

process.on('exit', killAllNow);
try {
  if (!wasiCommand) await cpuProfile();
  if (!opt['no-perf']) {
    if (!perfWorks()) say('perf record does not work here: perf profiles skipped.');
    else {
      const ws: PerfBreakdown[] = [];
      const cs: PerfBreakdown[] = [];
      for (let i = 0; i < rounds; i++) {
        ws.push(await perfProfile('wasmloop', (port) => server(['--perf-basic-prof'], port)));
        cs.push(
          await perfProfile('c', async (port) => {
            const p = start('c-server', SERVER_CPU, bins[cServer], [String(port)]);
            await waitForPort(port, p);
            return p;
          }),
        );
      }
      say(
        `## perf (cpu-clock samples at 2999 Hz): ${guest} (driver: ${opt.driver ?? 'CLI default'}) vs the C server, ${conns} connections${depth}, ${seconds} s of ${kind === 'http' && tools.wrk ? 'wrk' : 'echo-load'}, mean of ${rounds} alternating round(s)`,
      );
      say();
      for (const l of perfMarkdown(meanBreakdown(ws), meanBreakdown(cs))) say(l);
      say();
    }
  }
  writeFileSync(
    join(benchDir, 'results', 'profile.md'),
    `# wasmloop profile — ${new Date().toISOString()}\n\n${out.join('\n')}\n`,
  );
  process.stdout.write('profile: wrote bench/results/profile.md\n');
} finally {
  await stopAll();
}
