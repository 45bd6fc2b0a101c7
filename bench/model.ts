/** The shape of a bench run's results (what bench/results/latest.json holds). */
import type { Kind } from './servers.ts';

export interface Scenario {
  id: string;
  title: string;
  kind: Kind;
  conns: number;
  /** Requests per write (1 = plain keep-alive / ping-pong). */
  pipeline: number;
  /** What one "request" is: an echoed 64-byte message or an HTTP response. */
  unit: 'msg' | 'req';
  /** `Connection: close` on every request: a new connection (and TLS handshake) for each. */
  close?: boolean;
}

/** One measured run of one server in one scenario. */
export interface RunResult {
  rep: number;
  error?: string;
  /** Requests per second over the load generator's window. */
  rate: number;
  requests: number;
  seconds: number;
  p50Us: number | null;
  p99Us: number | null;
  loadErrors: number;
  /** Server CPU (user + system, whole process tree) per request served, microseconds. */
  cpuUsPerReq: number;
  userUsPerReq: number;
  sysUsPerReq: number;
  /** Server CPU time over the window's wall time, percent of one core. */
  serverCpuPct: number;
  /** The rest of the machine's busy CPU time over the window (load generator and anything
   *  else running), percent of one core. */
  otherCpuPct: number;
}

/** Medians over the successful runs (each figure separately). */
export interface Summary {
  runs: number;
  rate: number;
  p50Us: number | null;
  p99Us: number | null;
  cpuUsPerReq: number;
  cpuUsMin: number;
  cpuUsMax: number;
  userUsPerReq: number;
  sysUsPerReq: number;
  serverCpuPct: number;
  otherCpuPct: number;
}

/** Syscalls counted with strace over a fixed number of requests (setup and teardown excluded). */
export interface SyscallResult {
  requests: number;
  total: number;
  perRequest: number;
  epollCtlPerRequest: number;
  /** Per request, by syscall name, largest first. */
  byName: Record<string, number>;
}

/** Syscalls counted with perf stat on the kernel's tracepoints, at full speed. */
export interface FullSpeedSyscalls {
  requests: number;
  perRequest: number;
  /** epoll_wait + epoll_pwait per request: how often the server polled. */
  epollWaitsPerRequest: number;
  epollCtlPerRequest: number;
}

export interface Cell {
  server: string;
  label: string;
  runs: RunResult[];
  summary: Summary | null;
  syscalls: SyscallResult | null;
  syscallError?: string;
  fullSpeed: FullSpeedSyscalls | null;
  fullSpeedError?: string;
  /** Why this server was not measured here. */
  skipped?: string;
}

export interface ScenarioResult extends Scenario {
  cells: Cell[];
  skipped?: string;
}

export interface IdleResult {
  kind: Kind;
  server: string;
  label: string;
  /** The idle connections measured, opened on top of `baseConns` already idle (bench/idle.ts). */
  conns: number;
  baseConns: number;
  /** RSS of the fresh server, with `baseConns` idle, and with `baseConns + conns` idle. */
  rssFreshKiB: number | null;
  rssBaseKiB: number | null;
  rssIdleKiB: number | null;
  /** (rssIdleKiB − rssBaseKiB) / conns: what one more idle connection costs. */
  kibPerConn: number | null;
  /** Servers started until a measurement was not disturbed by the heap giving pages back. */
  tries: number;
  error?: string;
}

export interface TargetResult {
  name: string;
  /** true met, false not met, null could not be evaluated (a figure is missing). */
  met: boolean | null;
  detail: string;
}

export interface Results {
  date: string;
  mode: 'quick' | 'full';
  config: {
    reps: number;
    warmSec: number;
    measureSec: number;
    straceRequests: number;
    perfSeconds: number;
    idleConns: number;
  };
  machine: Record<string, string>;
  build: Record<string, string>;
  scenarios: ScenarioResult[];
  idle: IdleResult[];
  targets: TargetResult[];
  notes: string[];
  elapsedSec: number;
}
