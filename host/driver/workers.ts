/**
 * One loop per thread: N worker threads, each with its own epoll fd and guest instance. Each
 * worker has its own listening socket per address, bound with SO_REUSEPORT, so the kernel
 * spreads new connections over the workers' accept queues (an inherited listener, which cannot
 * be bound again, is duplicated instead: the workers share its queue). The pool owns those sockets; a
 * worker that dies (or that the watchdog stops because a guest call never returned) is
 * replaced by a fresh one over the same sockets, and the fds it held are closed here.
 */
import type { ListenAddress } from '../address.ts';
import { WasmloopError } from '../errors.ts';
import { GuestTrap } from '../guest/env.ts';
import type { LoopStats } from '../guest/loop.ts';
import { TRAP_CAUSES } from '../guest/loop-metrics.ts';
import { renderMetrics, sumStats } from '../metrics.ts';
import type { NativeKernel } from '../kernel/native.ts';
import type { Fd } from '../kernel/contract.ts';
import {
  DEFAULT_GRACE_MS,
  type CloseOptions,
  type LoopConfig,
  type ReloadConfig,
  type WasmLoop,
} from '../types.ts';
import type { ModuleSource } from '../module.ts';
import {
  BUSY_SLOT,
  fromWorkerError,
  readMetrics,
  RELOADS_SLOT,
  RESTARTS_SLOT,
  TRAPS_SLOT,
  type ToPool,
} from './worker-protocol.ts';
import { TrialThread } from './trial.ts';
import {
  abandonReload,
  createSlots,
  reclaim,
  reloadThread,
  siblingSet,
  startFailure,
  startThread,
  type Slot,
} from './worker-slot.ts';

/** Extra time a worker gets to exit after its grace period before it is terminated. */
const EXIT_SLACK_MS = 1000;

export interface PoolOptions extends LoopConfig {
  native: NativeKernel;
  onTrap: (err: GuestTrap, restarting: boolean) => void;
  signal?: AbortSignal;
  workers: number;
  /** How many of the last `fds` were inherited (`listenFds`): another worker gets a duplicate
   *  of each, sharing its accept queue, since a socket bound elsewhere cannot be bound again. */
  inherited?: number;
  watchdogMs: number;
  driver: 'libuv' | 'blocking';
  reloads: ReloadConfig;
}

/** Starts the pool; resolves once every worker is serving. If one fails (its start-up ran
 *  away, trapped, or its thread died), rejects once every fd the pool held is closed. */
export async function startWorkers(opts: PoolOptions): Promise<WasmLoop> {
  const fdSets: Fd[][] = [opts.fds];
  let pool: WorkerPool;
  try {
    for (let i = 1; i < opts.workers; i++) fdSets.push(await siblingSet(opts));
    pool = new WorkerPool(opts, fdSets);
  } catch (err) {
    for (const set of fdSets) for (const fd of set) opts.native.close(fd);
    throw err;
  }
  try {
    await pool.started;
  } catch (err) {
    await pool.done.catch(() => {});
    throw err;
  }
  return pool;
}

class WorkerPool implements WasmLoop {
  readonly done: Promise<void>;
  readonly started: Promise<void>;
  private readonly slots: Slot[];
  private closing = false;
  private finished = false;
  private watchdog: NodeJS.Timeout | undefined;
  /** Reloads roll one after another (each over every worker, one worker at a time). */
  private rolling: Promise<void> = Promise.resolve();
  /** Where a reload's module starts first (host/driver/trial.ts). */
  private readonly trial: TrialThread;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly opts: PoolOptions,
    fdSets: Fd[][],
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {});
    this.slots = createSlots(opts, fdSets);
    this.trial = new TrialThread(opts);
    this.started = Promise.all(this.slots.map((s) => this.spawn(s))).then(
      () => undefined,
      (err: Error) => {
        this.fail(err);
        throw err;
      },
    );
    if (opts.watchdogMs > 0) {
      // Checked at a tenth of the period (at most every 250 ms): a runaway call is stopped
      // within watchdogMs plus that, and the idle cost is a timer on the supervising thread.
      this.watchdog = setInterval(
        () => this.checkWatchdog(),
        Math.min(Math.max(opts.watchdogMs / 10, 10), 250),
      );
      this.watchdog.unref();
    }
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  address(): ListenAddress {
    return { ...this.opts.addresses[0]! };
  }

  addresses(): ListenAddress[] {
    return this.opts.addresses.map((a) => ({ ...a }));
  }

  stats(): LoopStats {
    return sumStats(this.slots.map((s) => readMetrics(s.retired, s.stats).stats));
  }

  /** Each worker's series carry its slot's index as the `worker` label. */
  metrics(): string {
    return renderMetrics(
      this.slots.map((s, i) => ({ worker: i, metrics: readMetrics(s.retired, s.stats) })),
    );
  }

  /** Reloads every worker, one at a time: the next only once the previous serves the new
   *  module, and the first only once the module started on the trial thread (trial.ts). A
   *  failure stops the roll (workers already reloaded keep the new module). */
  reload(source: ModuleSource): Promise<void> {
    const roll = this.rolling.then(async () => {
      const prepared = await this.trial.prepare(source, this.opts.reloads.given).catch((err) => {
        this.slots[0]!.retired[RELOADS_SLOT + 1]!++; // a pool-wide failure: worker 0 counts it
        throw err;
      });
      for (const [i, slot] of this.slots.entries())
        await reloadThread(slot, i, prepared, this.opts.reloads.drainMs);
    });
    this.rolling = roll.catch(() => {});
    return roll;
  }

  /** A later call with a shorter grace period shortens it (the CLI's second signal). */
  close(options: CloseOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    if (!this.closing) {
      this.closing = true;
      clearInterval(this.watchdog);
      const exits = this.slots.map((s) => this.stop(s, graceMs));
      void Promise.all(exits).then(() => this.finish());
    } else if (!this.finished) {
      for (const slot of this.slots) this.hurry(slot, graceMs);
    }
    return this.done.catch(() => {});
  }

  /** Starts a worker in the slot; resolves when it serves, rejects if it fails to start. */
  private spawn(slot: Slot): Promise<void> {
    const worker = startThread(slot, this.opts);
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: ToPool) => this.onMessage(slot, msg, resolve, reject));
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        reject(startFailure(slot, code, this.opts.watchdogMs));
        if (slot.worker === worker) this.onExit(slot, code);
      });
    });
  }

  /** A worker's message; `started` and `failed` settle its start-up (once: later calls do
   *  nothing). */
  private onMessage(
    slot: Slot,
    msg: ToPool,
    started: () => void,
    failed: (err: Error) => void,
  ): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      started();
    } else if (msg.type === 'failed') failed(fromWorkerError(msg.error));
    else if (msg.type === 'trap') this.opts.onTrap(new GuestTrap(msg.message), msg.restarting);
    else if (msg.type === 'reloaded' && slot.reloading?.id === msg.id)
      slot.reloading.settle(msg.error && fromWorkerError(msg.error));
    else if (msg.type === 'closed' && msg.error && !this.closing)
      this.fail(fromWorkerError(msg.error));
  }

  /** A worker ended: expected during close, otherwise it is replaced with a back-off. */
  private onExit(slot: Slot, code: number): void {
    slot.worker = null;
    abandonReload(slot, code, this.opts.watchdogMs); // if its thread died during a reload
    reclaim(slot, (fd) => this.opts.native.close(fd));
    if (this.closing || this.finished || !slot.ready) return; // a start-up failure fails the pool
    slot.restarts.fail(slot.startedAt, performance.now());
    const reason = slot.killed
      ? `a guest call ran longer than ${this.opts.watchdogMs} ms (watchdog)`
      : `its worker thread exited (code ${code})`;
    slot.retired[TRAPS_SLOT + TRAP_CAUSES.indexOf(slot.killed ? 'watchdog' : 'worker_exit')]!++;
    slot.killed = false;
    const restarting = slot.restarts.allowsRestart;
    this.opts.onTrap(
      new GuestTrap(`${reason}; ${restarting ? 'replacing the worker' : 'giving up'}`),
      restarting,
    );
    if (!restarting) {
      this.fail(
        new WasmloopError(
          'ERR_WASMLOOP_RESTARTS',
          `a worker died ${slot.restarts.count} times in a row; giving up (last: ${reason})`,
        ),
      );
      return;
    }
    slot.retired[RESTARTS_SLOT]!++;
    setTimeout(() => {
      if (!this.closing && !this.finished) this.spawn(slot).catch((err: Error) => this.fail(err));
    }, slot.restarts.delayMs());
  }

  private checkWatchdog(): void {
    const now = performance.timeOrigin + performance.now();
    for (const slot of this.slots) {
      const since = slot.stats[BUSY_SLOT]!;
      if (slot.worker && !slot.killed && since > 0 && now - since > this.opts.watchdogMs) {
        slot.killed = true;
        void slot.worker.terminate();
      }
    }
  }

  /** Asks a worker to drain and waits for it to exit, terminating it after the grace period
   *  plus EXIT_SLACK_MS (a guest that spins cannot drain: this bounds every shutdown). */
  private stop(slot: Slot, graceMs: number): Promise<void> {
    const worker = slot.worker;
    if (!worker) return Promise.resolve();
    return new Promise((resolve) => {
      this.hurry(slot, graceMs);
      worker.once('exit', () => {
        clearTimeout(slot.killTimer);
        resolve();
      });
    });
  }

  /** Gives a draining worker `graceMs` from now, if that ends sooner than what it has. */
  private hurry(slot: Slot, graceMs: number): void {
    const worker = slot.worker;
    const end = performance.now() + graceMs;
    if (!worker || end >= slot.graceEnd) return;
    slot.graceEnd = end;
    clearTimeout(slot.killTimer);
    slot.killTimer = setTimeout(() => void worker.terminate(), graceMs + EXIT_SLACK_MS);
    worker.postMessage({ type: 'close', graceMs });
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.closing = true;
    clearInterval(this.watchdog);
    void Promise.all(this.slots.map((s) => (s.worker ? s.worker.terminate() : undefined))).then(
      () => this.finish(err),
    );
  }

  private finish(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.trial.close();
    for (const slot of this.slots) {
      reclaim(slot, (fd) => this.opts.native.close(fd));
      for (const fd of slot.fds) this.opts.native.close(fd);
    }
    if (err) this.settle.reject(err);
    else this.settle.resolve();
  }
}
