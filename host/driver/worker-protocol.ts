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

export const RESTARTS_SLOT = STAT_NAMES.length;
export const BUSY_SLOT = STAT_NAMES.length + 1;
export const REFUSED_SLOT = STAT_NAMES.length + 2;
export const BLOCKED_SLOT = STAT_NAMES.length + 3;
export const STATS_SLOTS = STAT_NAMES.length + 4;

export interface WorkerInit extends LoopConfig {
  driver: 'libuv' | 'blocking';
  stats: SharedArrayBuffer;
  registry: SharedArrayBuffer;
}

export type ToWorker = { type: 'close'; graceMs: number };

export interface WorkerError {
  code: string;
  message: string;
}

export type ToPool =
  | { type: 'ready' }
  | { type: 'trap'; message: string; restarting: boolean }
  | { type: 'closed'; error?: WorkerError }
  | { type: 'failed'; error: WorkerError };
