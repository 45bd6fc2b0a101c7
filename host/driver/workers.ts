/**
 * One loop per thread: N worker threads, each with its own epoll fd and guest instance. Each
 * worker has its own listening socket per address, bound with SO_REUSEPORT, so the kernel
 * spreads new connections over the workers' accept queues. The pool owns those sockets; a
 * worker that dies (or that the watchdog stops because a guest call never returned) is
 * replaced by a fresh one over the same sockets, and the fds it held are closed here.
 */
import { Worker } from 'node:worker_threads';
import type { ListenAddress } from '../address.ts';
import { WasmloopError } from '../errors.ts';
import { handleTableSize } from '../guest/handles.ts';
import { GuestTrap } from '../guest/env.ts';
import { STAT_NAMES, type GuestStats } from '../guest/exports.ts';
import { connectionLimit } from '../limits.ts';
import { openSiblings } from '../listeners.ts';
import type { LoopStats } from '../guest/loop.ts';
import type { NativeKernel } from '../kernel/native.ts';
import type { Fd } from '../kernel/contract.ts';
import { DEFAULT_GRACE_MS, type CloseOptions, type LoopConfig, type WasmLoop } from '../types.ts';
import {
  BLOCKED_SLOT,
  BUSY_SLOT,
  REFUSED_SLOT,
  RESTARTS_SLOT,
  STATS_SLOTS,
  fromWorkerError,
  type ToPool,
  type WorkerInit,
} from './worker-protocol.ts';

/** Worker deaths in a row (per worker) tolerated before the pool gives up, as for traps. */
const DEFAULT_MAX_RESTARTS = 5;
/** A worker that has served this long has its death count reset. */
const FORGIVE_MS = 60_000;
/** Extra time a worker gets to exit after its grace period before it is terminated. */
const EXIT_SLACK_MS = 1000;

export interface PoolOptions extends LoopConfig {
  native: NativeKernel;
  onTrap: (err: GuestTrap, restarting: boolean) => void;
  signal?: AbortSignal;
  workers: number;
  watchdogMs: number;
  driver: 'libuv' | 'blocking';
}

interface Slot {
  fds: Fd[];
  worker: Worker | null;
  stats: Float64Array;
  registry: Int32Array;
  deaths: number;
  startedAt: number;
  killed: boolean; // stopped by the watchdog
  ready: boolean; // its guest started; until then a death fails the pool instead of a restart
  graceEnd: number; // while closing: when its grace period ends
  killTimer?: NodeJS.Timeout; // while closing: terminates it after graceEnd + EXIT_SLACK_MS
}

/** Starts the pool; resolves once every worker is serving. If one fails (its start-up ran
 *  away, trapped, or its thread died), rejects once every fd the pool held is closed. */
export async function startWorkers(opts: PoolOptions): Promise<WasmLoop> {
  const fdSets: Fd[][] = [opts.fds];
  let pool: WorkerPool;
  try {
    for (let i = 1; i < opts.workers; i++)
      fdSets.push(await openSiblings(opts.native, opts.addresses));
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
  private retired: LoopStats = { ...zero(), restarts: 0, connectionsRefused: 0, peersBlocked: 0 };
  private closing = false;
  private finished = false;
  private watchdog: NodeJS.Timeout | undefined;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly opts: PoolOptions,
    fdSets: Fd[][],
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {});
    // Two halves (host/driver/worker-protocol.ts): one slot per handle index a worker's table can
    // issue (host/guest/handles.ts; slot 0 the epoll fd), then as many for connections between instances.
    const registrySize = 2 * handleTableSize(connectionLimit(opts.limits), opts.addresses.length);
    this.slots = fdSets.map((fds) => ({
      fds,
      worker: null,
      stats: new Float64Array(new SharedArrayBuffer(STATS_SLOTS * 8)),
      registry: new Int32Array(new SharedArrayBuffer(registrySize * 4)).fill(-1),
      deaths: 0,
      startedAt: 0,
      killed: false,
      ready: false,
      graceEnd: Infinity,
    }));
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
    const out = { ...this.retired, open: 0 };
    for (const s of this.slots) {
      STAT_NAMES.forEach((name, i) => {
        out[name] += s.stats[i]!;
      });
      out.restarts += s.stats[RESTARTS_SLOT]!;
      out.connectionsRefused += s.stats[REFUSED_SLOT]!;
      out.peersBlocked += s.stats[BLOCKED_SLOT]!;
    }
    return out;
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
    const init: WorkerInit = {
      module: this.opts.module,
      fds: slot.fds,
      addresses: this.opts.addresses,
      limits: this.opts.limits,
      maxRestarts: this.opts.maxRestarts,
      args: this.opts.args,
      env: this.opts.env,
      driver: this.opts.driver,
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
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: ToPool) => {
        if (msg.type === 'ready') {
          slot.ready = true;
          resolve();
        } else if (msg.type === 'failed') reject(fromWorkerError(msg.error));
        else if (msg.type === 'trap') this.opts.onTrap(new GuestTrap(msg.message), msg.restarting);
        else if (msg.type === 'closed' && msg.error && !this.closing)
          this.fail(fromWorkerError(msg.error));
      });
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        reject(
          slot.killed
            ? new WasmloopError(
                'ERR_WASMLOOP_INIT',
                `the guest's start-up (wl_init) ran longer than ${this.opts.watchdogMs} ms (watchdog)`,
              )
            : new WasmloopError(
                'ERR_WASMLOOP_WORKER',
                `worker thread exited during start-up (code ${code})`,
              ),
        );
        if (slot.worker === worker) this.onExit(slot, code);
      });
    });
  }

  /** A worker ended: expected during close, otherwise it is replaced with a back-off. */
  private onExit(slot: Slot, code: number): void {
    slot.worker = null;
    this.reclaim(slot);
    if (this.closing || this.finished || !slot.ready) return; // a start-up failure fails the pool
    if (performance.now() - slot.startedAt > FORGIVE_MS) slot.deaths = 0;
    slot.deaths++;
    const max = this.opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    const reason = slot.killed
      ? `a guest call ran longer than ${this.opts.watchdogMs} ms (watchdog)`
      : `its worker thread exited (code ${code})`;
    slot.killed = false;
    const restarting = slot.deaths <= max;
    this.opts.onTrap(
      new GuestTrap(`${reason}; ${restarting ? 'replacing the worker' : 'giving up'}`),
      restarting,
    );
    if (!restarting) {
      this.fail(
        new WasmloopError(
          'ERR_WASMLOOP_RESTARTS',
          `a worker died ${slot.deaths} times in a row; giving up (last: ${reason})`,
        ),
      );
      return;
    }
    this.retired.restarts++;
    const delay = slot.deaths === 1 ? 0 : Math.min(100 * 2 ** (slot.deaths - 2), 5000);
    setTimeout(() => {
      if (!this.closing && !this.finished) this.spawn(slot).catch((err: Error) => this.fail(err));
    }, delay);
  }

  /** Takes a dead worker's counters into the totals and closes the fds it left open. */
  private reclaim(slot: Slot): void {
    STAT_NAMES.forEach((name, i) => {
      if (name !== 'open' && name !== 'buffersInUse') this.retired[name] += slot.stats[i]!;
    });
    this.retired.restarts += slot.stats[RESTARTS_SLOT]!;
    this.retired.connectionsRefused += slot.stats[REFUSED_SLOT]!;
    this.retired.peersBlocked += slot.stats[BLOCKED_SLOT]!;
    slot.stats.fill(0);
    const listeners = new Set(slot.fds);
    const held = new Set<Fd>(); // an fd may be listed twice (host/driver/handoff.ts): close it once
    for (let i = 0; i < slot.registry.length; i++) {
      const fd = slot.registry[i]! as Fd; // the worker's table mirrored: fds or -1
      if (fd >= 0 && !listeners.has(fd)) held.add(fd);
      slot.registry[i] = -1;
    }
    for (const fd of held) this.opts.native.close(fd);
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
    for (const slot of this.slots) {
      this.reclaim(slot);
      for (const fd of slot.fds) this.opts.native.close(fd);
    }
    if (err) this.settle.reject(err);
    else this.settle.resolve();
  }
}

function zero(): GuestStats {
  return Object.fromEntries(STAT_NAMES.map((k) => [k, 0])) as GuestStats;
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
