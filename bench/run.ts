/**
 * `npm run bench`: compares wasmloop with a hand-written C epoll server, Node's own servers and
 * nginx, and checks the issue's targets. See docs/PERFORMANCE.md for the method and how to read
 * the output.
 *
 *   node --import tsx bench/run.ts [--quick] [--reps N] [--measure S] [--warm S]
 *        [--scenarios id,id|idle] [--servers wasmloop,wasmloop-uv,wasmloop-sdk,c,node,nginx] [--no-strace] [--no-idle]
 *        [--no-install]
 *
 * Order: the timed runs (each scenario, servers alternating, repeated; in the first round each
 * server's timed window is followed by its syscall counts, strace and perf at full speed), then
 * the idle-connection memory runs. Every server is started fresh for each run and every
 * process is stopped at the end, also on error or Ctrl-C. Exits 0 whether targets are met or
 * not; non-zero only when the bench itself could not run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildC, type Program } from './build.ts';
import { svgChart } from './chart.ts';
import { idleMemory } from './idle.ts';
import { median } from './measure.ts';
import type { Cell, IdleResult, Results, RunResult, ScenarioResult, Summary } from './model.ts';
import { freePort, killAllNow, pinSelf, pinning, stopAll } from './procs.ts';
import { json, markdown } from './report.ts';
import { artifactDigests, buildInfo, machineInfo } from './info.ts';
import { snapshotBuild } from './snapshot.ts';
import { SCENARIOS, measureRun, type LoadTools } from './scenarios.ts';
import {
  checkWasmloopBuild,
  serverDefs,
  staleness,
  startServer,
  stopServer,
  type RunningServer,
  type ServerDef,
} from './servers.ts';
import { perfSyscalls, perfUsable, straceSyscalls } from './syscalls.ts';
import { evaluateTargets } from './targets.ts';
import { findTools } from './tools.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    measure: { type: 'string' },
    warm: { type: 'string' },
    scenarios: { type: 'string' },
    servers: { type: 'string' },
    'no-strace': { type: 'boolean', default: false },
    'no-idle': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--reps N] [--measure S] [--warm S] [--scenarios id,...|idle] [--servers wasmloop,wasmloop-uv,wasmloop-sdk,c,node,nginx] [--no-strace] [--no-idle] [--no-install]\n',
  );
  process.exit(0);
}

const quick = opt.quick;
const config = {
  reps: Number(opt.reps ?? (quick ? 1 : 3)),
  warmSec: Number(opt.warm ?? (quick ? 0.5 : 1)),
  measureSec: Math.max(1, Math.round(Number(opt.measure ?? (quick ? 1 : 5)))),
  straceRequests: quick ? 3000 : 20000,
  perfSeconds: quick ? 0.3 : 1,
  idleConns: 10000,
};
const idleSettleMs = quick ? 300 : 1000;
const onlyScenarios = opt.scenarios?.split(',');
const onlyServers = opt.servers?.split(',');
const wanted = (id: string) => !onlyScenarios || onlyScenarios.includes(id);

const say = (s: string) => process.stdout.write(s + '\n');
const fmtErr = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

function summarize(runs: RunResult[]): Summary | null {
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

async function main(): Promise<number> {
  const t0 = performance.now();
  pinSelf();
  const notes: string[] = [];
  if (!pinning()) notes.push('taskset not found: processes are NOT pinned to CPUs');
  const tools = findTools(!opt['no-install']);
  notes.push(...tools.notes);
  let bins: Record<Program, string> | null = null;
  if (tools.cc) bins = buildC(benchDir, tools.cc);
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

  // The libuv-driver variant of wasmloop runs in full runs (or when named with --servers); the
  // quick run keeps to the CLI default to stay under two minutes.
  const defaultServer = (id: string) => !(quick && id === 'wasmloop-uv');
  const defs = serverDefs({ root, wasmloopRoot, tools, bins, wasmloopProblem }).filter((d) =>
    onlyServers ? onlyServers.includes(d.id) : defaultServer(d.id),
  );
  const loadTools: LoadTools = { echoLoad: bins?.['echo-load'] ?? null, wrk: tools.wrk, benchDir };
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });

  // ---- timed runs ---------------------------------------------------------------------------
  const scenarios: ScenarioResult[] = SCENARIOS.filter((s) => wanted(s.id)).map((s) => {
    const skipped =
      s.kind === 'echo' && !bins
        ? 'no C compiler for the echo load generator'
        : s.kind === 'http' && !tools.wrk
          ? 'wrk is not installed'
          : undefined;
    const cells: Cell[] = defs
      .filter((d) => d.kind === s.kind)
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
  const defOf = (s: ScenarioResult, c: Cell): ServerDef =>
    defs.find((d) => d.kind === s.kind && d.id === c.server)!;
  const active = scenarios.filter((s) => !s.skipped);
  const total =
    active.reduce((a, s) => a + s.cells.filter((c) => !c.skipped).length, 0) * config.reps;
  const perf = perfUsable(tools.perf) ? tools.perf : null;
  if (tools.perf && !perf)
    notes.push(
      'perf cannot count syscall tracepoints here (tracefs or permissions): full-speed syscall counts skipped',
    );
  const counting = !opt['no-strace'] && (tools.strace !== null || perf !== null) && bins !== null;
  if (opt['no-strace']) notes.push('syscall counts skipped (--no-strace)');

  /** The syscall counts of one cell, on a server that has just finished its first timed run
   *  (so it is warm): strace over a fixed count, then perf over ~perfSeconds at full speed. */
  const countSyscalls = async (
    s: ScenarioResult,
    cell: Cell,
    server: RunningServer,
    rate: number,
  ) => {
    if (tools.strace) {
      try {
        cell.syscalls = await straceSyscalls(
          tools.strace,
          bins!['echo-load'],
          resultsDir,
          s,
          server,
          config.straceRequests,
        );
      } catch (err) {
        cell.syscallError = fmtErr(err);
      }
    }
    if (perf) {
      const count = Math.max(
        2000,
        Math.round((Number.isFinite(rate) ? rate : 20000) * config.perfSeconds),
      );
      try {
        cell.fullSpeed = await perfSyscalls(perf, bins!['echo-load'], resultsDir, s, server, count);
      } catch (err) {
        cell.fullSpeedError = fmtErr(err);
      }
    }
    const st = cell.syscalls
      ? `strace ${cell.syscalls.perRequest.toFixed(2)} syscalls/${s.unit}, epoll_ctl ${cell.syscalls.epollCtlPerRequest.toFixed(3)}`
      : `strace: ${cell.syscallError ?? 'skipped'}`;
    const fs = cell.fullSpeed
      ? `full speed ${cell.fullSpeed.perRequest.toFixed(2)} syscalls/${s.unit}, ${cell.fullSpeed.epollWaitsPerRequest.toFixed(3)} epoll waits`
      : `perf: ${cell.fullSpeedError ?? 'skipped'}`;
    say(`      syscalls: ${st}; ${fs}`);
  };

  let done = 0;
  for (let rep = 1; rep <= config.reps; rep++) {
    for (const s of active) {
      const cells = s.cells.filter((c) => !c.skipped);
      const shift = (rep - 1) % Math.max(1, cells.length); // rotate who goes first each round
      for (const cell of [...cells.slice(shift), ...cells.slice(0, shift)]) {
        done++;
        const def = defOf(s, cell);
        let result: RunResult;
        try {
          const server = await startServer(def, await freePort(), root);
          try {
            result = await measureRun(loadTools, s, server, config, rep);
            say(
              `[${done}/${total}] ${s.id} ${def.label}: ${(result.rate / 1000).toFixed(1)} k ${s.unit}/s, ${result.cpuUsPerReq.toFixed(2)} µs CPU/${s.unit}, server CPU ${result.serverCpuPct.toFixed(0)}%, rest ${result.otherCpuPct.toFixed(0)}%${result.loadErrors ? `, ${result.loadErrors} load errors` : ''}`,
            );
            // Counted after the timed window, never during it.
            if (rep === 1 && counting) await countSyscalls(s, cell, server, result.rate);
          } finally {
            await stopServer(server);
          }
        } catch (err) {
          result = {
            rep,
            error: fmtErr(err),
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
          say(`[${done}/${total}] ${s.id} ${def.label}: FAILED: ${result.error}`);
        }
        cell.runs.push(result);
      }
    }
  }
  for (const s of scenarios) for (const c of s.cells) c.summary = summarize(c.runs);

  // ---- idle connections ---------------------------------------------------------------------
  const idle: IdleResult[] = [];
  if (opt['no-idle'] || (onlyScenarios && !onlyScenarios.includes('idle')))
    notes.push('idle-connection memory skipped');
  else if (bins) {
    for (const def of [
      ...defs.filter((d) => d.kind === 'http'),
      ...defs.filter((d) => d.kind === 'echo'),
    ]) {
      if (def.unavailable || def.id === 'wasmloop-uv') continue; // the driver does not change memory
      try {
        const server = await startServer(def, await freePort(), root, true);
        try {
          const r = await idleMemory(bins['idle-conns'], server, config.idleConns, idleSettleMs);
          idle.push(r);
          say(
            `idle ${def.kind} ${def.label}: ${(r.rssFreshKiB! / 1024).toFixed(1)} MiB fresh, ${(r.rssIdleKiB! / 1024).toFixed(1)} MiB with ${r.conns} idle, ${r.kibPerConn!.toFixed(2)} KiB/conn`,
          );
        } finally {
          await stopServer(server);
        }
      } catch (err) {
        idle.push({
          kind: def.kind,
          server: def.id,
          label: def.label,
          conns: config.idleConns,
          rssFreshKiB: null,
          rssIdleKiB: null,
          kibPerConn: null,
          error: fmtErr(err),
        });
        say(`idle ${def.kind} ${def.label}: FAILED: ${fmtErr(err)}`);
      }
    }
  }

  // ---- report -------------------------------------------------------------------------------
  if (JSON.stringify(artifactDigests(root)) !== startDigests) {
    notes.push(
      "the repository's wasmloop build changed while the bench ran; every run used the copy taken at the start (digests below)",
    );
  }
  const results: Results = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    mode: quick ? 'quick' : 'full',
    config,
    machine: machineInfo(tools),
    build,
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
