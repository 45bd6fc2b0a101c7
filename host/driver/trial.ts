/**
 * A reload's trial start, before any worker is asked (docs/DESIGN.md, "Reload"): the pool
 * starts the new module on a thread of its own (host/driver/trial-thread.ts) that holds no
 * socket and no connection, under the watchdog's period. A wl_init that traps, overflows its
 * stack or runs away fails the reload there, and only that thread is terminated: the workers
 * and their connections never see the module. The thread stays IDLE_MS after a trial, so a
 * burst of reloads starts it once.
 */
import type { Worker } from 'node:worker_threads';
import { prepareReload, reloadError, type ModuleSource, type PreparedGuest } from '../module.ts';
import type { Limits } from '../limits.ts';
import type { TrialAnswer, TrialRequest } from './trial-thread.ts';
import { fromWorkerError } from './worker-protocol.ts';
import { workerThread } from './worker-slot.ts';

/** How long an idle trial thread is kept for the next reload: long enough for a burst (a
 *  deploy script, --watch), short, since a thread holds its own event loop's fds and memory. */
const IDLE_MS = 1000;

/** What a trial needs of the pool's configuration (`fds`: its listeners, counted). */
export interface TrialConfig {
  watchdogMs: number;
  fds: readonly unknown[];
  args: string[];
  env: Record<string, string>;
}

export class TrialThread {
  private thread: Promise<Worker> | null = null;
  private idle: NodeJS.Timeout | undefined;
  /** The trial under way (the pool's reloads roll one at a time): its answer, or why not. */
  private pending: ((answer: TrialAnswer | Error) => void) | null = null;
  private ids = 0;

  constructor(private readonly config: TrialConfig) {}

  /** `source` loaded and checked under the `given` limits (host/module.ts prepareReload), then
   *  tried; rejects with ERR_WASMLOOP_RELOAD as `run` does. */
  async prepare(source: ModuleSource, given: Limits): Promise<PreparedGuest> {
    clearTimeout(this.idle);
    this.thread ??= this.start(); // it boots while the module loads
    try {
      const prepared = await prepareReload(source, given);
      await this.run(prepared);
      return prepared;
    } finally {
      this.idleLater();
    }
  }

  /** Resolves once `prepared` started (and was dropped) on the trial thread; rejects with
   *  ERR_WASMLOOP_RELOAD when its start failed or ran past the watchdog's period. */
  async run(prepared: PreparedGuest): Promise<void> {
    clearTimeout(this.idle);
    try {
      const worker = await (this.thread ??= this.start());
      const { args, env } = this.config;
      const listeners = this.config.fds.length;
      const id = ++this.ids;
      const { module, limits } = prepared;
      const answer = this.answer(id);
      worker.postMessage({ id, module, limits, listeners, args, env } satisfies TrialRequest);
      await answer;
    } catch (err) {
      throw reloadError(err);
    } finally {
      this.pending = null;
      this.idleLater();
    }
  }

  /** The thread is closed once it has idled IDLE_MS. */
  private idleLater(): void {
    clearTimeout(this.idle);
    if (this.thread !== null) this.idle = setTimeout(() => this.close(), IDLE_MS).unref();
  }

  /** Terminates the thread (the pool closes, the watchdog fired, or it idled). */
  close(): void {
    clearTimeout(this.idle);
    const thread = this.thread;
    this.thread = null;
    void thread?.then((w) => w.terminate()).catch(() => {});
  }

  /** Settles with trial `id`'s answer; past the watchdog's period the thread is terminated. */
  private answer(id: number): Promise<void> {
    const { watchdogMs } = this.config;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.close();
          reject(new Error(`the new guest's start-up ran longer than ${watchdogMs} ms (watchdog)`));
        },
        watchdogMs || 2 ** 31 - 1,
      );
      this.pending = (a) => {
        if (!(a instanceof Error) && (a.type !== 'tried' || a.id !== id)) return;
        clearTimeout(timer);
        if (a instanceof Error) reject(a);
        else if (a.error) reject(fromWorkerError(a.error));
        else resolve();
      };
    });
  }

  private start(): Promise<Worker> {
    const worker = workerThread({ trial: true });
    worker.unref(); // an idle trial thread never keeps the process alive
    const started = new Promise<Worker>((resolve, reject) => {
      worker.once('message', () => resolve(worker)); // `ready`
      worker.on('message', (a: TrialAnswer) => this.pending?.(a));
      worker.on('error', (err) => this.pending?.(err));
      worker.on('exit', (code) => {
        const gone = new Error(`the trial thread exited (code ${code})`);
        if (this.thread === started) this.thread = null;
        reject(gone);
        this.pending?.(gone);
      });
    });
    started.catch(() => {}); // a caller that awaits it sees the failure; none may be waiting
    return started;
  }
}
