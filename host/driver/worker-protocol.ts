/**
 * What a worker pool (host/driver/workers.ts) and its worker threads (host/driver/worker.ts) exchange.
 *
 * Shared memory, one pair of buffers per worker:
 *   stats     Float64Array: [0, STAT_NAMES.length) the guest's counters, then restarts
 *             (RESTARTS_SLOT), then busy-since (BUSY_SLOT: the wall-clock ms at which the
 *             current guest call began, 0 when no guest code runs). The watchdog reads it.
 *             Then the host's own counters: connectionsRefused (REFUSED_SLOT) and
 *             peersBlocked (BLOCKED_SLOT), from the worker's trap budget per peer.
 *   registry  Int32Array in two halves of handleTableSize() slots (host/guest/handles.ts). The first: slot
 *             0 the worker's epoll fd, slot i the fd behind handle index i, -1 when free. The
 *             second: the connections between two guest instances (host/driver/handoff.ts). If the
 *             pool must kill a worker, it closes these fds itself, each number once (an fd
 *             may be in both halves for a moment). The worker clears a slot before closing
 *             its fd, so a kill can leak an fd but never make the pool close a number that
 *             was reused.
 */
import type { LoopConfig } from '../types.ts';
import { STAT_NAMES } from '../guest/exports.ts';
import type { LoopStats } from '../guest/loop-options.ts';
import { isWasmloopErrorCode, WasmloopError } from '../errors.ts';

export const RESTARTS_SLOT = STAT_NAMES.length;
export const BUSY_SLOT = STAT_NAMES.length + 1;
export const REFUSED_SLOT = STAT_NAMES.length + 2;
export const BLOCKED_SLOT = STAT_NAMES.length + 3;
export const STATS_SLOTS = STAT_NAMES.length + 4;

/** The worker's side: its loop's counters into its stats buffer (BUSY_SLOT is left alone). */
export function publishStats(shared: Float64Array, s: LoopStats): void {
  STAT_NAMES.forEach((name, i) => {
    shared[i] = s[name];
  });
  shared[RESTARTS_SLOT] = s.restarts;
  shared[REFUSED_SLOT] = s.connectionsRefused;
  shared[BLOCKED_SLOT] = s.peersBlocked;
}

/** The pool's side: adds the counters a worker published to `into`. The gauges (open
 *  connections, buffers in use) only with `gauges`: they describe a live worker, not a dead one. */
export function addStats(into: LoopStats, shared: Float64Array, gauges: boolean): void {
  STAT_NAMES.forEach((name, i) => {
    if (gauges || (name !== 'open' && name !== 'buffersInUse')) into[name] += shared[i]!;
  });
  into.restarts += shared[RESTARTS_SLOT]!;
  into.connectionsRefused += shared[REFUSED_SLOT]!;
  into.peersBlocked += shared[BLOCKED_SLOT]!;
}

export interface WorkerInit extends LoopConfig {
  driver: 'libuv' | 'blocking';
  stats: SharedArrayBuffer;
  registry: SharedArrayBuffer;
}

export type ToWorker = { type: 'close'; graceMs: number };

/** An error as it crosses the thread boundary: the code is a plain string on the wire. */
export interface WorkerError {
  code: string;
  message: string;
}

/** What a worker posts for `err`: its code if it is a WasmloopError, else ERR_WASMLOOP_WORKER
 *  (a Node error's `code`, e.g. 'ENOENT', is not one of ours). */
export function toWorkerError(err: unknown): WorkerError {
  const code = err instanceof WasmloopError ? err.code : 'ERR_WASMLOOP_WORKER';
  return { code, message: err instanceof Error ? err.message : String(err) };
}

/** The pool's side: the code is checked against the documented ones, so an unknown string
 *  becomes ERR_WASMLOOP_WORKER (with its exit status) rather than a code the CLI cannot map. */
export function fromWorkerError(e: WorkerError): WasmloopError {
  return new WasmloopError(isWasmloopErrorCode(e.code) ? e.code : 'ERR_WASMLOOP_WORKER', e.message);
}

export type ToPool =
  | { type: 'ready' }
  | { type: 'trap'; message: string; restarting: boolean }
  | { type: 'closed'; error?: WorkerError }
  | { type: 'failed'; error: WorkerError };
