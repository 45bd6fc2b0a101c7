/**
 * The bench's timed runs: each scenario's cells (one per server of its kind), run `reps` times
 * with the servers alternating (who goes first rotates each round), every server started fresh
 * for each run. In the first round a cell's timed window is followed by its syscall counts
 * (strace over a fixed count, then perf at full speed), never counted during the window.
 */
import type { Program } from './build.ts';
import { errorLine, say } from './log.ts';
import { median } from './measure.ts';
import type { Cell, Results, RunResult, Scenario, ScenarioResult, Summary } from './model.ts';
import { freePort } from './procs.ts';
import { SCENARIOS, measureRun, type LoadTools } from './scenarios.ts';
import { startServer, stopServer, type RunningServer, type ServerDef } from './servers.ts';
import { perfSyscalls, straceSyscalls } from './syscalls.ts';
import type { Tools } from './tools.ts';

/** What counts a cell's syscalls: strace and/or a perf that can count tracepoints. */
export interface SyscallCounters {
  strace: string | null;
  perf: string | null;
  echoLoad: string;
}

export interface TimedContext {
  root: string;
  defs: ServerDef[];
  loadTools: LoadTools;
  config: Results['config'];
  resultsDir: string;
  /** Null: syscalls are not counted in this run. */
  counters: SyscallCounters | null;
}

/** Why a scenario cannot run here (its load generator is missing), or undefined. */
function skipReason(s: Scenario, bins: Record<Program, string> | null, tools: Tools) {
  if (s.kind === 'echo' && !bins) return 'no C compiler for the echo load generator';
  if (s.kind !== 'echo' && !tools.wrk) return 'wrk is not installed';
  return undefined;
}

/** The wanted scenarios, each with an empty cell per server of its kind. */
export function scenarioResults(
  defs: ServerDef[],
  wanted: (id: string) => boolean,
  bins: Record<Program, string> | null,
  tools: Tools,
): ScenarioResult[] {
  return SCENARIOS.filter((s) => wanted(s.id)).map((s) => {
    const skipped = skipReason(s, bins, tools);
    const cells: Cell[] = defs
      .filter((d) => d.kind === s.kind && (d.scenarios?.includes(s.id) ?? true))
      .map((d) => ({
        server: d.id,
        label: d.label,
        runs: [],
        summary: null,
        syscalls: null,
        fullSpeed: null,
        ...(d.unavailable ? { skipped: d.unavailable } : {}),
      }));
    return { ...s, cells, ...(skipped ? { skipped } : {}) };
  });
}

/** Runs every cell that is not skipped `reps` times; fills in each cell's runs and summary. */
export async function runTimed(ctx: TimedContext, scenarios: ScenarioResult[]): Promise<void> {
  const active = scenarios.filter((s) => !s.skipped);
  const reps = ctx.config.reps;
  const total = active.reduce((a, s) => a + s.cells.filter((c) => !c.skipped).length, 0) * reps;
  let done = 0;
  for (let rep = 1; rep <= reps; rep++) {
    for (const s of active) {
      const cells = s.cells.filter((c) => !c.skipped);
      const shift = (rep - 1) % Math.max(1, cells.length); // rotate who goes first each round
      for (const cell of [...cells.slice(shift), ...cells.slice(0, shift)]) {
        done++;
        cell.runs.push(await oneRun(ctx, s, cell, rep, `[${done}/${total}]`));
      }
    }
  }
  for (const s of scenarios) for (const c of s.cells) c.summary = summarize(c.runs);
}

/** One timed run of a cell on a freshly started server; a failure is a run with its error. */
async function oneRun(
  ctx: TimedContext,
  s: ScenarioResult,
  cell: Cell,
  rep: number,
  progress: string,
): Promise<RunResult> {
  const def = ctx.defs.find((d) => d.kind === s.kind && d.id === cell.server)!;
  try {
    const server = await startServer(def, await freePort(), ctx.root);
    try {
      const result = await measureRun(ctx.loadTools, s, server, ctx.config, rep);
      say(
        `${progress} ${s.id} ${def.label}: ${(result.rate / 1000).toFixed(1)} k ${s.unit}/s, ${result.cpuUsPerReq.toFixed(2)} µs CPU/${s.unit}, server CPU ${result.serverCpuPct.toFixed(0)}%, rest ${result.otherCpuPct.toFixed(0)}%${result.loadErrors ? `, ${result.loadErrors} load errors` : ''}`,
      );
      // Counted after the timed window, never during it.
      if (rep === 1 && ctx.counters) await countSyscalls(ctx, s, cell, server, result.rate);
      return result;
    } finally {
      await stopServer(server);
    }
  } catch (err) {
    const result = failedRun(rep, errorLine(err));
    say(`${progress} ${s.id} ${def.label}: FAILED: ${result.error}`);
    return result;
  }
}

function failedRun(rep: number, error: string): RunResult {
  return {
    rep,
    error,
    rate: NaN,
    requests: 0,
    seconds: 0,
    p50Us: null,
    p99Us: null,
    loadErrors: 0,
    cpuUsPerReq: NaN,
    userUsPerReq: NaN,
    sysUsPerReq: NaN,
    serverCpuPct: NaN,
    otherCpuPct: NaN,
  };
}

/** The syscall counts of one cell, on a server that has just finished its first timed run
 *  (so it is warm): strace over a fixed count, then perf over ~perfSeconds at full speed. */
async function countSyscalls(
  ctx: TimedContext,
  s: ScenarioResult,
  cell: Cell,
  server: RunningServer,
  rate: number,
): Promise<void> {
  const { strace, perf, echoLoad } = ctx.counters!;
  const loads = { echoLoad, wrk: ctx.loadTools.wrk, benchDir: ctx.loadTools.benchDir };
  if (strace) {
    try {
      const count = ctx.config.straceRequests;
      cell.syscalls = await straceSyscalls(strace, loads, ctx.resultsDir, s, server, count);
    } catch (err) {
      cell.syscallError = errorLine(err);
    }
  }
  if (perf) {
    const perSecond = Number.isFinite(rate) ? rate : 20000;
    const count = Math.max(2000, Math.round(perSecond * ctx.config.perfSeconds));
    try {
      cell.fullSpeed = await perfSyscalls(perf, loads, ctx.resultsDir, s, server, count);
    } catch (err) {
      cell.fullSpeedError = errorLine(err);
    }
  }
  const st = cell.syscalls
    ? `strace ${cell.syscalls.perRequest.toFixed(2)} syscalls/${s.unit}, epoll_ctl ${cell.syscalls.epollCtlPerRequest.toFixed(3)}`
    : `strace: ${cell.syscallError ?? 'skipped'}`;
  const fs = cell.fullSpeed
    ? `full speed ${cell.fullSpeed.perRequest.toFixed(2)} syscalls/${s.unit}, ${cell.fullSpeed.epollWaitsPerRequest.toFixed(3)} epoll waits`
    : `perf: ${cell.fullSpeedError ?? 'skipped'}`;
  say(`      syscalls: ${st}; ${fs}`);
}

/** Medians over the successful runs (each figure separately), or null when none succeeded. */
export function summarize(runs: RunResult[]): Summary | null {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return null;
  const med = (f: (r: RunResult) => number) => median(ok.map(f));
  const medNull = (f: (r: RunResult) => number | null) => {
    const xs = ok.map(f).filter((x): x is number => x !== null);
    return xs.length > 0 ? median(xs) : null;
  };
  const cpu = ok.map((r) => r.cpuUsPerReq);
  return {
    runs: ok.length,
    rate: med((r) => r.rate),
    p50Us: medNull((r) => r.p50Us),
    p99Us: medNull((r) => r.p99Us),
    cpuUsPerReq: median(cpu),
    cpuUsMin: Math.min(...cpu),
    cpuUsMax: Math.max(...cpu),
    userUsPerReq: med((r) => r.userUsPerReq),
    sysUsPerReq: med((r) => r.sysUsPerReq),
    serverCpuPct: med((r) => r.serverCpuPct),
    otherCpuPct: med((r) => r.otherCpuPct),
  };
}
