/**
 * The scenarios, and one measured run of a server in a scenario.
 *
 * Method of a run (the server was started fresh and accepts connections):
 *   1. warm-up: `warmSec` of the same load (same connections, same pipelining), discarded, so
 *      V8 has optimised its hot code and every server has its buffers;
 *   2. server CPU time (utime + stime of its process tree, /proc/PID/stat) is read;
 *   3. the measured load runs for `measureSec`: echo-load for echo, wrk for HTTP, both on CPU 1;
 *   4. 200 ms later (connections closed) the CPU time is read again.
 * CPU per request = the CPU time between 2 and 4 / the requests the load generator saw answered.
 * The window is everything the server did for that load, connection setup and teardown
 * included (a few hundred accepts against hundreds of thousands of requests).
 * The rest of the machine's busy time in the same window is recorded too (otherCpuPct): the
 * load generator accounts for up to 100% of a core; more means something else was running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { echoLoad, wrk, type LoadResult } from './load.ts';
import { cpuTime, machineBusy } from './measure.ts';
import type { RunResult, Scenario } from './model.ts';
import type { RunningServer } from './servers.ts';

export const SCENARIOS: Scenario[] = [
  { id: 'echo-1', title: 'echo, 1 connection', kind: 'echo', conns: 1, pipeline: 1, unit: 'msg' },
  {
    id: 'echo-50',
    title: 'echo, 50 connections',
    kind: 'echo',
    conns: 50,
    pipeline: 1,
    unit: 'msg',
  },
  {
    id: 'echo-500',
    title: 'echo, 500 connections',
    kind: 'echo',
    conns: 500,
    pipeline: 1,
    unit: 'msg',
  },
  {
    id: 'http-50',
    title: 'HTTP keep-alive, 50 connections',
    kind: 'http',
    conns: 50,
    pipeline: 1,
    unit: 'req',
  },
  {
    id: 'http-500',
    title: 'HTTP keep-alive, 500 connections',
    kind: 'http',
    conns: 500,
    pipeline: 1,
    unit: 'req',
  },
  {
    id: 'http-pipe16-50',
    title: 'HTTP pipelined x16, 50 connections',
    kind: 'http',
    conns: 50,
    pipeline: 16,
    unit: 'req',
  },
  // Issue 15: hello over TLS against nginx over TLS (bench/tls.ts); wrk is the load.
  {
    id: 'https-50',
    title: 'HTTPS keep-alive, 50 connections',
    kind: 'https',
    conns: 50,
    pipeline: 1,
    unit: 'req',
  },
  {
    id: 'https-hs-50',
    title: 'HTTPS, a new connection and handshake per request, 50 connections',
    kind: 'https',
    conns: 50,
    pipeline: 1,
    unit: 'req',
    close: true,
  },
];

export interface Timing {
  warmSec: number;
  /** Whole seconds: wrk takes no fractions. */
  measureSec: number;
}

export interface LoadTools {
  echoLoad: string | null;
  wrk: string | null;
  benchDir: string;
}

/** Runs the scenario's load for `seconds`: echo-load for echo, wrk for HTTP (echo-load's HTTP
 *  mode only when wrk is missing and it is the warm-up). */
async function runLoad(
  t: LoadTools,
  s: Scenario,
  port: number,
  seconds: number,
  warmup: boolean,
): Promise<LoadResult> {
  if (s.kind === 'echo' || (warmup && t.echoLoad && s.kind === 'http')) {
    if (!t.echoLoad) throw new Error('echo-load is not built');
    const mode = s.kind;
    return echoLoad(t.echoLoad, { port, conns: s.conns, mode, depth: s.pipeline, seconds });
  }
  if (!t.wrk) throw new Error('wrk is not installed');
  return wrk(t.wrk, t.benchDir, {
    port,
    conns: s.conns,
    seconds: Math.max(1, Math.round(seconds)),
    pipeline: s.pipeline,
    tls: s.kind === 'https',
    close: s.close === true,
  });
}

export async function measureRun(
  t: LoadTools,
  s: Scenario,
  server: RunningServer,
  timing: Timing,
  rep: number,
): Promise<RunResult> {
  await runLoad(t, s, server.port, timing.warmSec, true);
  const before = cpuTime(server.proc.pid);
  const busyBefore = machineBusy();
  const t0 = performance.now();
  const load = await runLoad(t, s, server.port, timing.measureSec, false);
  await sleep(200);
  const after = cpuTime(server.proc.pid);
  const busy = machineBusy() - busyBefore;
  const wall = (performance.now() - t0) / 1000;
  if (server.proc.exitCode !== null)
    throw new Error(
      `${server.def.label} exited during the run: ${server.proc.stderr.trim().slice(-300)}`,
    );
  const user = after.user - before.user;
  const sys = after.sys - before.sys;
  const perReq = (x: number) => (load.requests > 0 ? (x / load.requests) * 1e6 : NaN);
  return {
    rep,
    rate: load.rate,
    requests: load.requests,
    seconds: load.seconds,
    p50Us: load.p50Us,
    p99Us: load.p99Us,
    loadErrors: load.errors,
    cpuUsPerReq: perReq(user + sys),
    userUsPerReq: perReq(user),
    sysUsPerReq: perReq(sys),
    serverCpuPct: ((user + sys) / wall) * 100,
    otherCpuPct: ((busy - user - sys) / wall) * 100,
  };
}
