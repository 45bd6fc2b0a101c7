/**
 * Syscalls per request, counted over a fixed number of requests, two ways:
 *
 *  - `strace -c -f` attached to every process of the server (every thread, with -f): the count
 *    by syscall name. strace stops the server at every syscall, so it runs far slower than in
 *    the timed runs and each epoll_wait tends to return more events: epoll waits per request
 *    come out lower than at full speed, for every server alike.
 *  - `perf stat` on the kernel's syscall tracepoints (raw_syscalls:sys_enter and the epoll
 *    ones), when perf and tracefs are available: counted in the kernel, at full speed, so the
 *    number of epoll waits per request is the real one. (A separate run: the counting itself
 *    costs a little CPU, so the timed runs never have it attached.)
 *
 * The load is echo-load in its controlled mode: its connections are opened first, the counter
 * is attached, then exactly `count` requests are made (echo messages, or HTTP requests with the
 * scenario's pipelining), the counter is detached, and only then are the connections closed.
 * So the counts hold request traffic only: no accept, no close, no connection's epoll_ctl ADD.
 * HTTPS is counted over a few seconds of wrk instead (echo-load has no TLS), connections
 * included.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controlledEchoLoad, wrk, type LoadResult } from './load.ts';
import { parseStraceSummary, sumCounts, treePids, type SyscallCounts } from './measure.ts';
import type { FullSpeedSyscalls, Scenario, SyscallResult } from './model.ts';
import { LOAD_CPU, start, stop, waitExit, type Proc } from './procs.ts';
import type { RunningServer } from './servers.ts';

/** The perf events counted at full speed, and the name each is reported under. */
const PERF_EVENTS: Record<string, string> = {
  'raw_syscalls:sys_enter': 'total',
  'syscalls:sys_enter_epoll_wait': 'epoll_wait',
  'syscalls:sys_enter_epoll_pwait': 'epoll_pwait',
  'syscalls:sys_enter_epoll_ctl': 'epoll_ctl',
};

/** Whether `perf stat` can count syscall tracepoints here (needs tracefs and permission). */
export function perfUsable(perf: string | null): boolean {
  if (!perf) return false;
  const r = spawnSync(perf, ['stat', '-x,', '-e', Object.keys(PERF_EVENTS).join(','), 'true'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return r.status === 0;
}

interface Counter {
  /** Starts counting the given pids; resolves once the counter is attached. */
  attach(pids: number[]): Promise<Proc>;
  /** Parses what the counter wrote after it was stopped with SIGINT. */
  read(): SyscallCounts;
}

/** The load generators a counted window may use. */
export interface CountingLoads {
  echoLoad: string;
  wrk: string | null;
  benchDir: string;
}

/** How long wrk runs as the counted load of an HTTPS scenario. */
const HTTPS_COUNT_SECONDS = 3;

/** wrk as a counted load for HTTPS, which echo-load does not speak: HTTPS_COUNT_SECONDS of it,
 *  its connections and handshakes inside the window (keep-alive: 50 handshakes over thousands
 *  of requests; with `Connection: close` they are what is measured). */
function wrkCountedLoad(loads: CountingLoads, s: Scenario, port: number) {
  if (!loads.wrk) throw new Error('wrk is not installed');
  const wrkBin = loads.wrk;
  const o = { port, conns: s.conns, pipeline: s.pipeline, tls: true, close: s.close === true };
  return {
    ready: Promise.resolve(),
    go: () => wrk(wrkBin, loads.benchDir, { ...o, seconds: HTTPS_COUNT_SECONDS }),
    finish: () => Promise.resolve(),
  };
}

/** Runs `count` requests of the scenario with `counter` attached to the server (HTTPS: wrk
 *  for HTTPS_COUNT_SECONDS instead). */
async function countedWindow(
  loads: CountingLoads,
  s: Scenario,
  server: RunningServer,
  count: number,
  counter: Counter,
): Promise<{ load: LoadResult; counts: SyscallCounts }> {
  const load =
    s.kind === 'https'
      ? wrkCountedLoad(loads, s, server.port)
      : controlledEchoLoad(loads.echoLoad, {
          port: server.port,
          conns: s.conns,
          mode: s.kind,
          depth: s.pipeline,
          count,
        });
  let tracer: Proc | null = null;
  try {
    await load.ready;
    tracer = await counter.attach(treePids(server.proc.pid));
    const result = await load.go();
    process.kill(tracer.pid, 'SIGINT'); // detach and write the summary
    await waitExit(tracer, 15_000);
    if (result.errors > 0) throw new Error(`${result.errors} load errors during the counted run`);
    return { load: result, counts: counter.read() };
  } finally {
    if (tracer) await stop(tracer, 'SIGINT');
    await load.finish().catch(() => {});
  }
}

function straceCounter(strace: string, out: string): Counter {
  return {
    async attach(pids) {
      const p = start('strace', LOAD_CPU, strace, [
        '-c',
        '-f',
        '-o',
        out,
        ...pids.flatMap((pid) => ['-p', String(pid)]),
      ]);
      const until = Date.now() + 10_000;
      while ((p.stderr.match(/attached/g) ?? []).length < pids.length) {
        if (p.exitCode !== null)
          throw new Error(`strace exited (${p.exitCode}): ${p.stderr.trim()}`);
        if (Date.now() > until) throw new Error(`strace did not attach: ${p.stderr.trim()}`);
        await sleep(10);
      }
      await sleep(100); // let strace settle on every thread before the first request
      return p;
    },
    read: () => parseStraceSummary(readFileSync(out, 'utf8')),
  };
}

function perfCounter(perf: string, out: string): Counter {
  return {
    async attach(pids) {
      const p = start('perf', LOAD_CPU, perf, [
        'stat',
        '-x,',
        '-o',
        out,
        '-e',
        Object.keys(PERF_EVENTS).join(','),
        '-p',
        pids.join(','),
      ]);
      await sleep(300); // perf prints nothing when attached; it opens its counters at once
      if (p.exitCode !== null) throw new Error(`perf exited (${p.exitCode}): ${p.stderr.trim()}`);
      return p;
    },
    read() {
      const counts: SyscallCounts = {};
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        const [value, , event] = line.split(',');
        const name = event ? PERF_EVENTS[event] : undefined;
        if (name && /^\d+$/.test(value ?? '')) counts[name] = Number(value);
      }
      if (counts.total === undefined) throw new Error('perf stat reported no syscall count');
      return counts;
    },
  };
}

/** strace -c over `count` requests: syscalls per request, by name. */
export async function straceSyscalls(
  strace: string,
  loads: CountingLoads,
  resultsDir: string,
  s: Scenario,
  server: RunningServer,
  count: number,
): Promise<SyscallResult> {
  const out = join(resultsDir, `strace-${s.id}-${server.def.id}-${process.pid}.tmp`);
  try {
    const { load, counts } = await countedWindow(
      loads,
      s,
      server,
      count,
      straceCounter(strace, out),
    );
    const per = (n: number) => n / load.requests;
    const byName = Object.fromEntries(
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, per(v)]),
    );
    return {
      requests: load.requests,
      total: sumCounts(counts),
      perRequest: per(sumCounts(counts)),
      epollCtlPerRequest: per(counts.epoll_ctl ?? 0),
      byName,
    };
  } finally {
    rmSync(out, { force: true });
  }
}

/** perf stat over `count` requests at full speed: totals and epoll calls per request. */
export async function perfSyscalls(
  perf: string,
  loads: CountingLoads,
  resultsDir: string,
  s: Scenario,
  server: RunningServer,
  count: number,
): Promise<FullSpeedSyscalls> {
  const out = join(resultsDir, `perf-${s.id}-${server.def.id}-${process.pid}.tmp`);
  try {
    const { load, counts } = await countedWindow(loads, s, server, count, perfCounter(perf, out));
    const per = (n: number | undefined) => (n ?? 0) / load.requests;
    return {
      requests: load.requests,
      perRequest: per(counts.total),
      epollWaitsPerRequest: per((counts.epoll_wait ?? 0) + (counts.epoll_pwait ?? 0)),
      epollCtlPerRequest: per(counts.epoll_ctl),
    };
  } finally {
    rmSync(out, { force: true });
  }
}
