/**
 * What a worker pool (host/driver/workers.ts) and its worker threads (host/driver/worker.ts) exchange.
 *
 * Shared memory, one pair of buffers per worker:
 *   stats     Float64Array: [0, STAT_NAMES.length) the guest's counters, then restarts
 *             (RESTARTS_SLOT), then busy-since (BUSY_SLOT: the wall-clock ms at which the
 *             current guest call began, 0 when no guest code runs). The watchdog reads it.
 *             Then the host's own counters: connectionsRefused (REFUSED_SLOT) and
 *             peersBlocked (BLOCKED_SLOT), from the worker's trap budget per peer; traps by
 *             cause (TRAPS_SLOT, TRAP_CAUSES' order); the slice histogram's bucket counts
 *             (SLICES_SLOT) and its sum in seconds (SLICE_SUM_SLOT); failed accepts by errno
 *             (ACCEPT_ERRORS_SLOT, one slot per WASI errno in ERRNO_NAMES' order); reloads ok
 *             and failed (RELOADS_SLOT).
 *   registry  Int32Array in REGISTRY_PARTS + 1 parts of handleTableSize() slots
 *             (host/guest/handles.ts). The first REGISTRY_PARTS, one per guest instance that may
 *             run at once (a reload overlaps them: host/guest/retiring.ts): slot i the fd
 *             behind handle index i, -1 when free; slot 0 of the first holds the worker's epoll
 *             fd. The last: the connections between two guest instances (host/driver/handoff.ts). If the
 *             pool must kill a worker, it closes these fds itself, each number once (an fd
 *             may be in both halves for a moment). The worker clears a slot before closing
 *             its fd, so a kill can leak an fd but never make the pool close a number that
 *             was reused.
 */
import type { LoopConfig } from '../types.ts';
import { ERRNO_NAMES } from '../abi.ts';
import { STAT_NAMES } from '../guest/exports.ts';
import type { LoopStats } from '../guest/loop-options.ts';
import { SLICE_BOUNDS_S, TRAP_CAUSES, zeroTraps, type LoopMetrics } from '../guest/loop-metrics.ts';
import { isWasmloopErrorCode, WasmloopError } from '../errors.ts';
import { REGISTRY_PARTS } from '../guest/retiring.ts';

export const RESTARTS_SLOT = STAT_NAMES.length;
export const BUSY_SLOT = STAT_NAMES.length + 1;
export const REFUSED_SLOT = STAT_NAMES.length + 2;
export const BLOCKED_SLOT = STAT_NAMES.length + 3;
export const TRAPS_SLOT = STAT_NAMES.length + 4;
export const SLICES_SLOT = TRAPS_SLOT + TRAP_CAUSES.length;
export const SLICE_SUM_SLOT = SLICES_SLOT + SLICE_BOUNDS_S.length + 1;
export const ACCEPT_ERRORS_SLOT = SLICE_SUM_SLOT + 1;
/** Reloads: ok, then failed. */
export const RELOADS_SLOT = ACCEPT_ERRORS_SLOT + ERRNO_NAMES.length;
export const STATS_SLOTS = RELOADS_SLOT + 2;
/** The slots that describe a live worker rather than count: a dead one's are not kept. */
const NOT_RETIRED = new Set([
  STAT_NAMES.indexOf('open'),
  STAT_NAMES.indexOf('buffersInUse'),
  BUSY_SLOT,
]);

/** The worker's side: its loop's counters into its stats buffer (BUSY_SLOT is left alone). */
export function publishStats(shared: Float64Array, m: LoopMetrics): void {
  STAT_NAMES.forEach((name, i) => {
    shared[i] = m.stats[name];
  });
  shared[RESTARTS_SLOT] = m.stats.restarts;
  shared[REFUSED_SLOT] = m.stats.connectionsRefused;
  shared[BLOCKED_SLOT] = m.stats.peersBlocked;
  TRAP_CAUSES.forEach((cause, i) => {
    shared[TRAPS_SLOT + i] = m.traps[cause];
  });
  shared.set(m.slices.counts, SLICES_SLOT);
  shared[SLICE_SUM_SLOT] = m.slices.sumSeconds;
  shared.set(m.acceptErrors, ACCEPT_ERRORS_SLOT);
  shared[RELOADS_SLOT] = m.reloads.ok;
  shared[RELOADS_SLOT + 1] = m.reloads.failed;
}

/** The pool's side: adds what a dead worker published to what its slot keeps (`retired`);
 *  the gauges and its busy mark are dropped. */
export function retireStats(retired: Float64Array, shared: Float64Array): void {
  for (let i = 0; i < STATS_SLOTS; i++) if (!NOT_RETIRED.has(i)) retired[i]! += shared[i]!;
}

/** The pool's side: a worker slot's totals, what its dead threads left (`retired`) plus what
 *  its live thread published. */
export function readMetrics(retired: Float64Array, shared: Float64Array): LoopMetrics {
  const at = (i: number) => retired[i]! + shared[i]!;
  const stats = {
    restarts: at(RESTARTS_SLOT),
    connectionsRefused: at(REFUSED_SLOT),
    peersBlocked: at(BLOCKED_SLOT),
  } as LoopStats;
  STAT_NAMES.forEach((name, i) => (stats[name] = at(i)));
  const traps = zeroTraps();
  TRAP_CAUSES.forEach((cause, i) => (traps[cause] = at(TRAPS_SLOT + i)));
  const counts = Array.from({ length: SLICE_BOUNDS_S.length + 1 }, (_, i) => at(SLICES_SLOT + i));
  const acceptErrors = ERRNO_NAMES.map((_, i) => at(ACCEPT_ERRORS_SLOT + i));
  const reloads = { ok: at(RELOADS_SLOT), failed: at(RELOADS_SLOT + 1) };
  const slices = { counts, sumSeconds: at(SLICE_SUM_SLOT) };
  return { stats, traps, slices, acceptErrors, reloads };
}

/** The worker's side: the registry parts of its loop's handle tables, and its handoff list. */
export function splitRegistry(registry: Int32Array): { tables: Int32Array; handoff: Int32Array } {
  const split = (registry.length / (REGISTRY_PARTS + 1)) * REGISTRY_PARTS;
  return { tables: registry.subarray(0, split), handoff: registry.subarray(split) };
}

export interface WorkerInit extends LoopConfig {
  driver: 'libuv' | 'blocking';
  stats: SharedArrayBuffer;
  registry: SharedArrayBuffer;
}

/** `reload`: a module the pool prepared (host/module.ts prepareReload), for the worker's
 *  loop to reload to; it answers `reloaded` with the same id. */
export type ToWorker =
  | { type: 'close'; graceMs: number }
  | {
      type: 'reload';
      id: number;
      module: WebAssembly.Module;
      limits: Record<string, number>;
      drainMs: number;
    };

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
  | { type: 'reloaded'; id: number; error?: WorkerError }
  | { type: 'failed'; error: WorkerError };
