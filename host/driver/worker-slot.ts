/**
 * One place in a worker pool (host/driver/workers.ts): the listeners its threads serve, the
 * memory it shares with them (host/driver/worker-protocol.ts), its restart budget; how a thread
 * starts in it, and what the pool takes back when the thread ends: its counters, and every fd
 * it left open.
 */
import { Worker } from 'node:worker_threads';
import { handleTableSize } from '../guest/handles.ts';
import { RestartBudget } from '../guest/restart-budget.ts';
import type { Fd } from '../kernel/contract.ts';
import { connectionLimit } from '../limits.ts';
import type { LoopConfig } from '../types.ts';
import { retireStats, STATS_SLOTS, type WorkerInit } from './worker-protocol.ts';

/** What a slot's threads are started with besides the slot's own fds and memory. */
export type WorkerConfig = LoopConfig & Pick<WorkerInit, 'driver'>;

export interface Slot {
  fds: Fd[];
  worker: Worker | null;
  stats: Float64Array;
  /** What its dead threads counted, in the layout of `stats` (the gauges left out). */
  retired: Float64Array;
  registry: Int32Array;
  /** Deaths of its threads in a row, and the wait before the next one starts. */
  restarts: RestartBudget;
  startedAt: number;
  killed: boolean; // stopped by the watchdog
  ready: boolean; // its guest started; until then a death fails the pool instead of a restart
  graceEnd: number; // while closing: when its grace period ends
  killTimer?: NodeJS.Timeout; // while closing: terminates it after graceEnd + EXIT_SLACK_MS
}

/** The slots of a pool, one per set of listening fds, with their shared memory. */
export function createSlots(config: LoopConfig, fdSets: Fd[][]): Slot[] {
  // Two halves (host/driver/worker-protocol.ts): one slot per handle index a worker's table can
  // issue (host/guest/handles.ts; slot 0 the epoll fd), then as many for connections between
  // instances.
  const registrySize = 2 * handleTableSize(connectionLimit(config.limits), config.addresses.length);
  return fdSets.map((fds) => ({
    fds,
    worker: null,
    stats: new Float64Array(new SharedArrayBuffer(STATS_SLOTS * 8)),
    retired: new Float64Array(STATS_SLOTS),
    registry: new Int32Array(new SharedArrayBuffer(registrySize * 4)).fill(-1),
    restarts: new RestartBudget(config.maxRestarts),
    startedAt: 0,
    killed: false,
    ready: false,
    graceEnd: Infinity,
  }));
}

/** Takes a dead worker's counters into the slot's `retired` and closes the fds it left open
 *  (never one of the slot's listeners: the pool owns those). */
export function reclaim(slot: Slot, close: (fd: Fd) => void): void {
  retireStats(slot.retired, slot.stats);
  slot.stats.fill(0);
  const listeners = new Set(slot.fds);
  const held = new Set<Fd>(); // an fd may be listed twice (host/driver/handoff.ts): close it once
  for (let i = 0; i < slot.registry.length; i++) {
    const fd = slot.registry[i]! as Fd; // the worker's table mirrored: fds or -1
    if (fd >= 0 && !listeners.has(fd)) held.add(fd);
    slot.registry[i] = -1;
  }
  for (const fd of held) close(fd);
}

/** Starts a worker thread (host/driver/worker.ts) in the slot, over the slot's listeners and
 *  shared memory. */
export function startThread(slot: Slot, config: WorkerConfig): Worker {
  const init: WorkerInit = {
    module: config.module,
    fds: slot.fds,
    addresses: config.addresses,
    limits: config.limits,
    maxRestarts: config.maxRestarts,
    args: config.args,
    env: config.env,
    driver: config.driver,
    stats: slot.stats.buffer as SharedArrayBuffer,
    registry: slot.registry.buffer as SharedArrayBuffer,
  };
  const worker = FROM_SOURCE
    ? new Worker(sourceBootstrap(), { eval: true, workerData: init })
    : new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  slot.worker = worker;
  slot.ready = false;
  slot.startedAt = performance.now();
  slot.stats.fill(0);
  return worker;
}

/** True when running from the TypeScript sources (tests, development) rather than dist/. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** From source, a worker needs the TypeScript loader too: loader hooks registered on the main
 *  thread do not reach worker threads in Node 20 (nor does --import in a worker's execArgv),
 *  so the thread registers tsx itself, then loads worker.ts. */
function sourceBootstrap(): string {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  return `import(${tsx}).then((m) => { m.register(); return import(${entry}); });`;
}
