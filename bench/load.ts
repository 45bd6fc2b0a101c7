/**
 * The load generators, run on CPU 1: bench/build/echo-load (echo ping-pong, and HTTP with an
 * exact request count for the strace runs) and wrk (HTTP throughput and latency).
 */
import { join } from 'node:path';
import { LOAD_CPU, start, stop, waitExit, waitOutput, type Proc } from './procs.ts';

export interface LoadResult {
  /** Requests (echo messages, HTTP responses) the server answered during the run. */
  requests: number;
  /** Requests answered inside the measured window, and its length. */
  windowRequests: number;
  seconds: number;
  /** windowRequests / seconds. */
  rate: number;
  /** Latency percentiles in microseconds; null when the tool gave no usable figure. */
  p50Us: number | null;
  p99Us: number | null;
  errors: number;
}

export interface EchoLoadOptions {
  port: number;
  conns: number;
  mode: 'echo' | 'http';
  depth?: number;
  seconds?: number;
  count?: number;
}

function echoLoadArgs(o: EchoLoadOptions, wait: boolean): string[] {
  const args = [
    '-p',
    String(o.port),
    '-c',
    String(o.conns),
    '-m',
    o.mode,
    '-P',
    String(o.depth ?? 1),
  ];
  if (o.seconds !== undefined) args.push('-d', String(o.seconds));
  if (o.count !== undefined) args.push('-n', String(o.count));
  if (wait) args.push('-W');
  return args;
}

function parseEchoLoad(p: Proc): LoadResult {
  const line = p.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`echo-load printed no result: ${p.stderr.trim().slice(-400)}`);
  const j = JSON.parse(line) as Record<string, number>;
  return {
    requests: j.requests!,
    windowRequests: j.window_requests!,
    seconds: j.seconds!,
    rate: j.rate!,
    p50Us: j.p50_us!,
    p99Us: j.p99_us!,
    errors: j.errors!,
  };
}

/** Runs echo-load to completion. */
export async function echoLoad(bin: string, o: EchoLoadOptions): Promise<LoadResult> {
  const p = start('echo-load', LOAD_CPU, bin, echoLoadArgs(o, false));
  try {
    const code = await waitExit(p, ((o.seconds ?? 30) + 20) * 1000);
    if (code !== 0) throw new Error(`echo-load exited ${code}: ${p.stderr.trim().slice(-400)}`);
    return parseEchoLoad(p);
  } finally {
    await stop(p);
  }
}

/**
 * echo-load in -W mode, for a window that must contain only request traffic: `ready` resolves
 * once every connection is up; `go()` starts the requests and resolves with the result, before
 * any connection is closed; `finish()` lets it close its connections and exit.
 */
export interface ControlledLoad {
  ready: Promise<void>;
  go(): Promise<LoadResult>;
  finish(): Promise<void>;
}

export function controlledEchoLoad(bin: string, o: EchoLoadOptions): ControlledLoad {
  const p = start('echo-load', LOAD_CPU, bin, echoLoadArgs(o, true));
  return {
    ready: waitOutput(p, 'connected\n', 20_000),
    async go() {
      p.child.stdin!.write('go\n');
      await waitOutput(p, '}\n', 120_000);
      return parseEchoLoad(p);
    },
    async finish() {
      p.child.stdin!.end();
      try {
        await waitExit(p, 10_000);
      } finally {
        await stop(p);
      }
    },
  };
}

export interface WrkOptions {
  port: number;
  conns: number;
  /** Whole seconds (wrk takes no fractions). */
  seconds: number;
  /** Requests per write; 1 is plain keep-alive. */
  pipeline: number;
  /** https:// (wrk's TLS: OpenSSL, TLS 1.3 with the servers here). */
  tls?: boolean;
  /** `Connection: close`: a new connection per request. */
  close?: boolean;
}

/**
 * wrk with one thread (it has one CPU) and a 10 s socket timeout. Requests in flight when wrk
 * stops are served but not counted, which over-states CPU per request by at most
 * connections x pipeline / requests (0.1-0.3 % here).
 */
export async function wrk(wrkBin: string, benchDir: string, o: WrkOptions): Promise<LoadResult> {
  const script = o.pipeline > 1 ? join(benchDir, 'pipeline.lua') : join(benchDir, 'wrk-report.lua');
  const args = [
    '-t1',
    `-c${o.conns}`,
    `-d${o.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    ...(o.close ? ['-H', 'Connection: close'] : []),
    `${o.tls ? 'https' : 'http'}://127.0.0.1:${o.port}/`,
  ];
  if (o.pipeline > 1) args.push('--', String(o.pipeline));
  const p = start('wrk', LOAD_CPU, wrkBin, args);
  try {
    const code = await waitExit(p, (o.seconds + 30) * 1000);
    const line = p.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (code !== 0 || !line)
      throw new Error(`wrk exited ${code}: ${(p.stderr + p.stdout).trim().slice(-400)}`);
    const j = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const seconds = j.duration_us! / 1e6;
    // wrk "corrects" its latency histogram for coordinated omission, adding synthetic samples
    // spaced by runtime / (responses per connection). With pipelining that interval is 1/depth
    // of the real one between writes, so the percentiles mix in many made-up samples (p99 can
    // even come out as 0): they are not reported. Keep-alive percentiles are wrk's usual ones.
    const pct = (v: number | undefined) =>
      o.pipeline === 1 && v !== undefined && v > 0 ? v : null;
    return {
      requests: j.requests!,
      windowRequests: j.requests!,
      seconds,
      rate: j.requests! / seconds,
      p50Us: pct(j.p50_us),
      p99Us: pct(j.p99_us),
      errors: j.errors!,
    };
  } finally {
    await stop(p);
  }
}
