/**
 * One place in a worker pool (host/driver/workers.ts): the listeners its threads serve, the
 * memory it shares with them (host/driver/worker-protocol.ts), its restart budget; how a thread
 * starts in it, and what the pool takes back when the thread ends: its counters, and every fd
 * it left open.
 */
import { Worker } from 'node:worker_threads';
import { handleTableSize } from '../guest/handles.ts';
import { RestartBudget } from '../guest/restart-budget.ts';
import { REGISTRY_PARTS } from '../guest/retiring.ts';
import type { Fd } from '../kernel/contract.ts';
import { connectionLimit } from '../limits.ts';
import type { LoopConfig } from '../types.ts';
import {
  RELOADS_SLOT,
  retireStats,
  STATS_SLOTS,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.ts';
import type { ListenAddress } from '../address.ts';
import { errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import { openSiblings } from '../listeners.ts';
import { copyTlsMark } from '../tls.ts';
import type { NativeKernel } from '../kernel/native.ts';
import { reloadError, type PreparedGuest } from '../module.ts';

/** What siblingSet needs of the pool's options. */
interface SiblingOptions {
  native: NativeKernel;
  fds: Fd[];
  addresses: ListenAddress[];
  inherited?: number;
}

/** What a slot's threads are started with besides the slot's own fds and memory. */
export type WorkerConfig = LoopConfig & Pick<WorkerInit, 'driver'>;

export interface Slot {
  fds: Fd[];
  /** What its threads start with: the pool's module, or the last one a reload gave it. */
  module: WebAssembly.Module;
  limits: Record<string, number>;
  /** A reload sent to its thread, until the thread answers or dies. */
  reloading?: { id: number; settle: (err?: Error) => void };
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
  // REGISTRY_PARTS + 1 parts (host/driver/worker-protocol.ts): for each instance that may run
  // at once, one slot per handle index its table can issue (host/guest/handles.ts; slot 0 of
  // the first the epoll fd), then as many for connections between instances.
  const tableSize = handleTableSize(connectionLimit(config.limits), config.addresses.length);
  const registrySize = (REGISTRY_PARTS + 1) * tableSize;
  return fdSets.map((fds) => ({
    fds,
    module: config.module,
    limits: config.limits,
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
    module: slot.module,
    fds: slot.fds,
    addresses: config.addresses,
    limits: slot.limits,
    maxRestarts: config.maxRestarts,
    args: config.args,
    env: config.env,
    driver: config.driver,
    stats: slot.stats.buffer as SharedArrayBuffer,
    registry: slot.registry.buffer as SharedArrayBuffer,
  };
  const worker = workerThread(init);
  slot.worker = worker;
  slot.ready = false;
  slot.startedAt = performance.now();
  slot.stats.fill(0);
  return worker;
}

/** A thread running host/driver/worker.ts with `workerData` (a pool's worker, or its trial
 *  thread: host/driver/trial.ts). */
export function workerThread(workerData: unknown): Worker {
  return FROM_SOURCE
    ? new Worker(sourceBootstrap(), { eval: true, workerData })
    : new Worker(new URL('./worker.js', import.meta.url), { workerData });
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

/** Another worker's listeners: bound again with SO_REUSEPORT, or duplicated if inherited. */
export async function siblingSet(opts: SiblingOptions): Promise<Fd[]> {
  const bound = opts.fds.length - (opts.inherited ?? 0);
  const set = await openSiblings(opts.native, opts.addresses.slice(0, bound));
  for (const fd of opts.fds.slice(bound)) {
    const copy = opts.native.dupListener(fd);
    if (copy < 0) {
      for (const open of set) opts.native.close(open);
      throw new WasmloopError('ERR_WASMLOOP_LISTEN', `cannot share fd ${fd}: ${errnoName(copy)}`);
    }
    set.push(copy);
  }
  set.forEach((copy, i) => copyTlsMark(opts.native, opts.fds[i]!, copy));
  return set;
}

/** Why a worker that exits before it serves failed to start. */
export function startFailure(slot: Slot, code: number, watchdogMs: number): WasmloopError {
  return slot.killed
    ? new WasmloopError(
        'ERR_WASMLOOP_INIT',
        `the guest's start-up (wl_init) ran longer than ${watchdogMs} ms (watchdog)`,
      )
    : new WasmloopError(
        'ERR_WASMLOOP_WORKER',
        `worker thread exited during start-up (code ${code})`,
      );
}

let reloadIds = 0;

/** Reloads the slot's thread (host/driver/worker.ts); resolves once it serves `prepared`, rejects
 *  (ERR_WASMLOOP_RELOAD) if it could not, its old instance serving on, or if the thread died
 *  meanwhile (`abandonReload`). Its later threads start with `prepared`. */
export function reloadThread(
  slot: Slot,
  index: number,
  prepared: PreparedGuest,
  drainMs: number,
): Promise<void> {
  const worker = slot.worker;
  if (worker === null || !slot.ready)
    return Promise.reject(reloadError(new Error(`worker ${index} is not serving`)));
  const id = ++reloadIds;
  return new Promise((resolve, reject) => {
    slot.reloading = {
      id,
      settle: (err) => {
        slot.reloading = undefined;
        if (err) return reject(reloadError(err));
        [slot.module, slot.limits] = [prepared.module, prepared.limits];
        resolve();
      },
    };
    const { module, limits } = prepared;
    worker.postMessage({ type: 'reload', id, module, limits, drainMs } satisfies ToWorker);
  });
}

/** The slot's thread exited with `code`: a reload it was making failed (counted here, since
 *  the thread that would have counted it is gone). The watchdog stops a new wl_init that runs
 *  away this way. */
export function abandonReload(slot: Slot, code: number, watchdogMs: number): void {
  if (slot.reloading === undefined) return;
  slot.retired[RELOADS_SLOT + 1]!++;
  const why = slot.killed
    ? `the new guest's start-up ran longer than ${watchdogMs} ms (watchdog)`
    : `its worker thread exited (code ${code})`;
  slot.reloading.settle(new Error(why));
}
