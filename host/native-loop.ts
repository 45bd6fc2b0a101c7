/**
 * A Loop driven by libuv, on the calling thread (the main thread, or one worker thread): the
 * epoll fd is watched with uv_poll, so the loop wakes exactly when the kernel has events, and
 * the guest's deadlines are armed as a Node timer. Nothing here blocks the thread.
 */
import type { ListenAddress } from './address.ts';
import { errnoName } from './errno.ts';
import { WasmloopError } from './errors.ts';
import type { GuestTrap } from './instance.ts';
import { Loop, type LoopStats } from './loop.ts';
import type { NativeKernel } from './native.ts';
import { DEFAULT_GRACE_MS, type CloseOptions, type WasmLoop } from './types.ts';

export interface NativeLoopOptions {
  native: NativeKernel;
  module: WebAssembly.Module;
  /** Listening fds handed to the guest. */
  fds: number[];
  addresses: ListenAddress[];
  /** True when this loop closes the listening fds when it stops (false: a worker pool owns them). */
  ownsListeners: boolean;
  maxRestarts?: number;
  limits: Readonly<Record<string, number>>;
  args: string[];
  env: Record<string, string>;
  onTrap: (err: GuestTrap, restarting: boolean) => void;
  signal?: AbortSignal;
  /** Worker mode: told when a guest call starts (true) and ends (false), for the watchdog. */
  onBusy?: (busy: boolean) => void;
  /** Worker mode: a shared mirror of the open fds, so the pool can close them if it must
   *  replace this thread. */
  registry?: Int32Array;
}

export class NativeLoop implements WasmLoop {
  readonly done: Promise<void>;
  private readonly loop: Loop;
  private poll: object | null = null;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private graceTimer: NodeJS.Timeout | undefined;
  private listenersOpen: boolean;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor(private readonly opts: NativeLoopOptions) {
    this.listenersOpen = opts.ownsListeners;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // a caller that never looks at `done` must not crash the process
    try {
      this.loop = new Loop({
        module: opts.module,
        kernel: opts.native,
        listeners: opts.fds,
        maxRestarts: opts.maxRestarts,
        limits: opts.limits,
        wasi: { args: opts.args, env: opts.env },
        onTrap: opts.onTrap,
        onBusy: opts.onBusy,
        registry: opts.registry,
        onDeadline: (ms) => this.arm(ms),
        onStopping: () => this.stopPolling(),
        onClosed: (err) => this.cleanup(err),
      });
    } catch (err) {
      this.closeListeners();
      throw err;
    }
    const poll = opts.native.pollStart(this.loop.epfd, () => this.loop.tick());
    if (typeof poll === 'number') {
      this.loop.finish();
      throw new WasmloopError('ERR_WASMLOOP_EPOLL', `cannot watch the epoll fd with libuv: ${errnoName(poll)}`);
    }
    this.poll = poll;
    this.loop.tick();
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  address(): ListenAddress {
    return { ...this.opts.addresses[0]! };
  }

  addresses(): ListenAddress[] {
    return this.opts.addresses.map((a) => ({ ...a }));
  }

  stats(): LoopStats {
    return this.loop.stats();
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (!this.loop.closed && this.graceTimer === undefined) {
      this.loop.drain();
      this.closeListeners();
      if (!this.loop.closed) {
        this.graceTimer = setTimeout(() => this.loop.finish(), options.graceMs ?? DEFAULT_GRACE_MS);
      }
    }
    return this.done.catch(() => {});
  }

  /** Arms the deadline timer unless one at least as early is already armed. */
  private arm(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.loop.tick(true);
    }, ms);
  }

  private closeListeners(): void {
    if (!this.listenersOpen) return;
    this.listenersOpen = false;
    for (const fd of this.opts.fds) this.opts.native.close(fd);
  }

  private stopPolling(): void {
    if (this.poll !== null) this.opts.native.pollStop(this.poll);
    this.poll = null;
  }

  private cleanup(err?: WasmloopError): void {
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    this.closeListeners();
    if (err) this.settle.reject(err);
    else this.settle.resolve();
  }
}

/** The default trap report: one line on stderr. */
export function defaultOnTrap(err: GuestTrap, restarting: boolean): void {
  process.stderr.write(`wasmloop: ${err.message}${restarting ? ' (restarting the guest)' : ''}\n`);
}
