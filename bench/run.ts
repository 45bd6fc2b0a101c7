/**
 * `npm run bench`: compares wasmloop with a hand-written C epoll server, Node's own servers and
 * nginx, and checks the targets. See docs/PERFORMANCE.md for the method and how to read
 * the output.
 *
 *   node --import tsx bench/run.ts [--quick] [--reps N] [--measure S] [--warm S]
 *        [--scenarios id,id|idle] [--servers wasmloop,wasmloop-uv,wasmloop-sdk,c,node,nginx,c-poll,wasmloop-wasi,wasmloop-keeps-1k] [--no-strace] [--no-idle]
 *        [--no-install] [--baseline ID=DIR[,FLAG...]]...
 *
 * Order: the timed runs (bench/timed.ts: each scenario, servers alternating, repeated; in the
 * first round each server's timed window is followed by its syscall counts, strace and perf at
 * full speed), then the idle-connection memory runs (bench/idle.ts), then the report. The
 * command line is read in bench/options.ts, the servers come from bench/servers.ts and the
 * scenarios from bench/scenarios.ts. Every server is started fresh for each run and every
 * process is stopped at the end, also on error or Ctrl-C. Exits 0 whether targets are met or
 * not; non-zero only when the bench itself could not run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineServers } from './baseline.ts';
import { buildC, type Program } from './build.ts';
import { svgChart } from './chart.ts';
import { idleCheckServer, idleRuns } from './idle.ts';
import { artifactDigests, buildInfo, machineInfo } from './info.ts';
import { say } from './log.ts';
import type { IdleResult, Results, ScenarioResult } from './model.ts';
import { benchOptions, type BenchOptions } from './options.ts';
import { killAllNow, pinSelf, pinning, stopAll } from './procs.ts';
import { json, markdown } from './report.ts';
import { checkWasmloopBuild, serverDefs, staleness, type ServerDef } from './servers.ts';
import { snapshotBuild } from './snapshot.ts';
import { perfUsable } from './syscalls.ts';
import { evaluateTargets } from './targets.ts';
import { runTimed, scenarioResults, type SyscallCounters } from './timed.ts';
import { findTools, type Tools } from './tools.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const resultsDir = join(benchDir, 'results');

/** What every phase of a run uses, found once at the start. */
interface Setup {
  opt: BenchOptions;
  tools: Tools;
  bins: Record<Program, string> | null;
  defs: ServerDef[];
  /** The run's notes, in the order they arose (printed as they arise until the timed runs). */
  notes: string[];
  build: Record<string, string>;
  /** The digests of the repository's build at the start, to notice a rebuild meanwhile. */
  startDigests: string;
}

/** Tools, the C programs, the build's snapshot and the servers to run. */
function setup(opt: BenchOptions): Setup {
  pinSelf();
  const notes: string[] = [];
  if (!pinning()) notes.push('taskset not found: processes are NOT pinned to CPUs');
  const tools = findTools(opt.install);
  notes.push(...tools.notes);
  const bins = tools.cc ? buildC(benchDir, tools.cc) : null;
  const wasmloopProblem = checkWasmloopBuild(root);
  if (wasmloopProblem) notes.push(`wasmloop not measured: ${wasmloopProblem}`);
  notes.push(...staleness(root));
  for (const n of notes) say(`bench: note: ${n}`);
  // Every run uses this copy of the build, even if the repository is rebuilt meanwhile.
  const wasmloopRoot = wasmloopProblem
    ? root
    : snapshotBuild(root, join(benchDir, 'build', 'snapshot'));
  const build = buildInfo(root, wasmloopRoot);
  const startDigests = JSON.stringify(artifactDigests(root));
  const { onlyServers, quick } = opt;
  const ctx = { root, wasmloopRoot, tools, bins, wasmloopProblem };
  const defs = [...serverDefs(ctx), idleCheckServer(ctx)].filter((d) =>
    onlyServers ? onlyServers.includes(d.id) : !(quick && d.inQuick === false),
  );
  defs.push(...baselineServers(ctx, opt.baselines));
  return { opt, tools, bins, defs, notes, build, startDigests };
}

/** What counts syscalls after each cell's first run, or null (noted why). */
function syscallCounters(su: Setup): SyscallCounters | null {
  const { tools, bins, notes } = su;
  const perf = perfUsable(tools.perf) ? tools.perf : null;
  if (tools.perf && !perf)
    notes.push(
      'perf cannot count syscall tracepoints here (tracefs or permissions): full-speed syscall counts skipped',
    );
  if (!su.opt.countSyscalls) notes.push('syscall counts skipped (--no-strace)');
  if (!su.opt.countSyscalls || (tools.strace === null && perf === null) || bins === null)
    return null;
  return { strace: tools.strace, perf, echoLoad: bins['echo-load'] };
}

async function idlePhase(su: Setup): Promise<IdleResult[]> {
  const { opt, bins } = su;
  if (!opt.idle) {
    su.notes.push('idle-connection memory skipped');
    return [];
  }
  if (!bins) return [];
  const { idleConns } = opt.config;
  return idleRuns(su.defs, bins['idle-conns'], idleConns, opt.idleSettleMs, root);
}

/** Targets, the report's three files, and the Markdown printed. */
function writeResults(su: Setup, scenarios: ScenarioResult[], idle: IdleResult[], t0: number) {
  const { opt, tools, notes } = su;
  if (JSON.stringify(artifactDigests(root)) !== su.startDigests) {
    notes.push(
      "the repository's wasmloop build changed while the bench ran; every run used the copy taken at the start (digests below)",
    );
  }
  const results: Results = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode: opt.quick ? 'quick' : 'full',
    config: opt.config,
    machine: machineInfo(tools),
    build: su.build,
    scenarios,
    idle,
    targets: [],
    notes,
    elapsedSec: 0,
  };
  results.targets = evaluateTargets(results);
  results.elapsedSec = (performance.now() - t0) / 1000;
  const md = markdown(results);
  writeFileSync(join(resultsDir, 'latest.md'), md);
  writeFileSync(join(resultsDir, 'latest.json'), json(results));
  writeFileSync(join(resultsDir, 'latest.svg'), svgChart(results));
  say('\n' + md);
  say(`bench: wrote bench/results/latest.md, latest.json and latest.svg`);
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const su = setup(benchOptions());
  const { opt, bins, tools, defs } = su;
  mkdirSync(resultsDir, { recursive: true });
  const wanted = (id: string) => !opt.onlyScenarios || opt.onlyScenarios.includes(id);
  const scenarios = scenarioResults(defs, wanted, bins, tools);
  const loadTools = { echoLoad: bins?.['echo-load'] ?? null, wrk: tools.wrk, benchDir };
  const counters = syscallCounters(su);
  await runTimed({ root, defs, loadTools, config: opt.config, resultsDir, counters }, scenarios);
  const idle = await idlePhase(su);
  writeResults(su, scenarios, idle, t0);
  return 0;
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    say(`bench: ${sig}: stopping every process started`);
    void stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(
    `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
} finally {
  await stopAll();
}
