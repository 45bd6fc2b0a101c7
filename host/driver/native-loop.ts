/**
 * A Loop on the calling thread (the main thread, or one worker thread), with one of two drivers:
 *
 *  - `libuv` (the default on the calling thread, workers: 0): the epoll fd is watched with uv_poll, so the loop
 *    wakes when the kernel has events, and the guest's deadlines are Node timers. Node's own
 *    work is never held up: the rest of the program runs as usual. The shim's uv_poll callback
 *    fetches the events into the guest's ring in C (the poll's target, kept on the current
 *    instance by `aim()`) before it enters JS with them; then, up to BURST_ROUNDS rounds per
 *    wake-up, it polls again after a burst, or lingers for the next event while Node has
 *    nothing to do (`linger()`). Over the blocking driver it costs the nested epoll's calls.
 *  - `blocking` (the worker threads' default, so the CLI's and embedding's): the thread waits in our own
 *    epoll_wait, with the guest's next deadline as its timeout, like a C epoll server. Every
 *    SLICE_MS it yields to Node for one turn, so signals, timers and worker messages are still
 *    handled, just up to SLICE_MS late. Use it only where nothing else needs the thread.
 */
import { performance } from 'node:perf_hooks';
import type { ListenAddress } from '../address.ts';
import { errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import type { NativeLoopOptions } from './native-loop-options.ts';
import { Loop, type LoopStats } from '../guest/loop.ts';
import type { LoopMetrics } from '../guest/loop-metrics.ts';
import { renderMetrics } from '../metrics.ts';
import { DEFAULT_GRACE_MS, type CloseOptions, type WasmLoop } from '../types.ts';
import type { Limits } from '../limits.ts';
import { prepareReload, reloadError, usesWasi, type ModuleSource } from '../module.ts';
import { initWasi } from '../guest/wasi.ts';

export { defaultOnTrap, type Driver, type NativeLoopOptions } from './native-loop-options.ts';

/** How long the blocking driver keeps the thread before yielding one turn to Node: the bound on
 *  how late a signal, timer or worker message is handled, and 50 yields a second when idle. */
const SLICE_MS = 20;
/** How long the blocking driver sleeps while the guest is being restarted after a trap. */
const RESTART_POLL_MS = 10;

/** How many rounds (a wait for events and their dispatch) one libuv wake-up runs at most:
 *  the bound that keeps Node's timers, immediates and other sockets running under constant
 *  load, each round being one short dispatch. */
const BURST_ROUNDS = 8;
/** A round with at least this many events is followed by a poll, one with fewer by a linger
 *  (`linger()`): at low concurrency the next event is a network round trip away. */
const BURST_MIN_EVENTS = 2;
/** A linger's longest wait. Not shorter: on the VMs measured a timer shorter than the tick is
 *  programmed into the clock device, and cancelled, at µs each (docs/PERFORMANCE.md). */
const LINGER_MS = 10;
/** Wake-ups that skip their linger after one that found nothing: where the next event comes
 *  through Node (a client on the same loop) a linger is a syscall for nothing. */
const LINGER_SKIPS = 16;

export class NativeLoop implements WasmLoop {
  readonly done: Promise<void>;
  private readonly loop: Loop;
  private poll: object | null = null;
  /** The instance and memory the poll fetches into (see `aim`). */
  private aimedGuest: object | null = null;
  private aimedMemory: ArrayBuffer | null = null;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private lingerSkips = 0; // see LINGER_SKIPS
  private graceTimer: NodeJS.Timeout | undefined;
  private graceEnd = Infinity; // when the grace period of close() ends
  private slice: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private listenersOpen: boolean;
  /** Some listener serves TLS: the libuv driver then also wakes for what the shim's TLS owes
   *  the guest (buffered plaintext, an expired handshake), which no socket event announces. */
  private readonly tls: boolean;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor(private readonly opts: NativeLoopOptions) {
    this.listenersOpen = opts.ownsListeners;
    this.tls = opts.fds.some((fd) => opts.native.tlsListenerId(fd) >= 0);
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
        registryParts: opts.registryParts,
        handoff: opts.handoff,
        ...(opts.driver === 'blocking' ? {} : { onDeadline: (ms: number) => this.arm(ms) }),
        onStopping: () => this.stopPolling(),
        onClosed: (err) => this.cleanup(err),
      });
    } catch (err) {
      this.closeListeners();
      throw err;
    }
    if (opts.driver === 'blocking') {
      this.slice = setImmediate(this.runSlice);
    } else {
      this.startPolling();
    }
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** The libuv driver: the shim's uv_poll on the epoll fd calls onReady when it is readable. */
  private startPolling(): void {
    const poll = this.opts.native.pollStart(this.loop.epfd, this.onReady);
    if (typeof poll === 'number') {
      this.loop.finish();
      throw new WasmloopError(
        'ERR_WASMLOOP_EPOLL',
        `cannot watch the epoll fd with libuv: ${errnoName(poll)}`,
      );
    }
    this.poll = poll;
    this.loop.tick();
    this.aim();
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

  /** What the metrics read (a worker thread publishes it to its pool). */
  loopMetrics(): LoopMetrics {
    return this.loop.metrics();
  }

  /** On the calling thread (workers: 0) the series have no `worker` label. */
  metrics(): string {
    return renderMetrics([{ metrics: this.loop.metrics() }]);
  }

  /** Replaces the guest without dropping a connection (WasmLoop.reload). */
  async reload(source: ModuleSource): Promise<void> {
    const config = this.opts.reloads;
    if (config === undefined) throw reloadError(new Error('this loop takes no reload'));
    const { module, limits } = await prepareReload(source, config.given).catch((err) => {
      this.loop.counters.reloads.failed++;
      throw err;
    });
    if (usesWasi(module)) await initWasi();
    this.reloadPrepared(module, limits, config.drainMs);
  }

  /** reload() with a module already prepared (a worker gets it from its pool). Throws
   *  ERR_WASMLOOP_RELOAD, the old instance serving on, if the new one cannot start. */
  reloadPrepared(module: WebAssembly.Module, limits: Limits, drainMs: number): void {
    if (this.loop.closed || this.graceTimer !== undefined)
      throw reloadError(new Error('the loop is closing'));
    try {
      this.loop.reload(module, drainMs, limits);
    } finally {
      this.aim(); // the poll fetches into the serving instance's ring
    }
  }

  /** A later call with a shorter grace period shortens it (the CLI's second signal). */
  close(options: CloseOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    if (this.loop.closed || performance.now() + graceMs >= this.graceEnd)
      return this.done.catch(() => {});
    if (this.graceTimer === undefined) {
      this.loop.drain();
      this.aim();
      this.closeListeners();
    }
    clearTimeout(this.graceTimer);
    if (!this.loop.closed) {
      this.graceEnd = performance.now() + graceMs;
      this.graceTimer = setTimeout(() => this.loop.finish(), graceMs);
    }
    return this.done.catch(() => {});
  }

  /** The blocking driver: waits and dispatches in our own epoll_wait for up to SLICE_MS, then
   *  yields one turn to Node. */
  private readonly runSlice = (): void => {
    this.slice = undefined;
    const loop = this.loop;
    const end = performance.now() + SLICE_MS;
    let now = 0;
    while (!loop.closed && loop.instance !== null && (now = performance.now()) < end) {
      loop.wait(Math.ceil(end - now), false, now);
    }
    // The reading that ended the loop ends the last slice (wait() ended the others with theirs).
    loop.counters.endSlice(now);
    if (loop.closed) return;
    // While a trapped guest waits for its restart there is nothing to wait on: sleep instead.
    this.slice =
      loop.instance === null
        ? setTimeout(this.runSlice, RESTART_POLL_MS)
        : setImmediate(this.runSlice);
  };

  /** The libuv driver's wake-up: `n` events fetched into the ring in C (n < 0: none could be,
   *  the first round polls from here), then up to BURST_ROUNDS rounds in all: a poll after a
   *  burst, a linger after one event; the first empty round ends it. */
  private readonly onReady = (n: number): void => {
    const loop = this.loop;
    if (n >= 0) loop.fetched(n);
    else n = loop.tick();
    loop.counters.endSlice(performance.now());
    for (let round = 1; round < BURST_ROUNDS && n > 0 && !loop.closed; round++) {
      n = n >= BURST_MIN_EVENTS ? loop.tick() : this.linger();
      if (loop.counters.sliceStart >= 0) loop.counters.endSlice(performance.now());
    }
    this.aim();
    this.armTls();
  };

  /** Waits inside the wake-up for the guest's next event, rather than in libuv, and dispatches
   *  it: at low concurrency a libuv iteration and an entry into JS saved per message. The shim
   *  returns 0 as soon as Node has work (an fd ready, a timer due, an immediate queued); the idle
   *  end of a wait (up to LINGER_MS) counts as busy in Node's event-loop utilization. Not with
   *  TLS listeners (their timer is armed as the wake-up ends). Returns the events dispatched. */
  private linger(): number {
    if (this.tls || this.poll === null || this.lingerSkips-- > 0) return 0;
    this.aim(); // the round before may have grown memory or trapped
    if (this.aimedGuest === null) return 0;
    const n = this.opts.native.pollLinger(this.poll, LINGER_MS);
    if (n > 0) this.loop.fetched(n);
    else this.lingerSkips = LINGER_SKIPS;
    return n;
  }

  /** The libuv driver's timer for the shim's TLS (see `tls`); the blocking driver needs none,
   *  since its epoll_wait is bounded by the same deadlines in C. */
  private armTls(): void {
    if (!this.tls || this.loop.closed) return;
    const ms = this.opts.native.tlsWake(this.loop.epfd);
    if (ms >= 0) this.arm(ms);
  }

  /**
   * Points the poll's fetch at the current instance's event ring, or at nothing while there is
   * none. Invariant: the poll never fetches into a dead instance's ring (its events would be
   * lost). An instance dies, and memory.grow detaches its buffer, only inside a guest call;
   * every guest call on the aimed instance starts here (the poll, the deadline timer, close),
   * and each re-aims when it returns. A restarted instance starts unaimed (its first wake-up
   * gets n < 0 and polls from JS); a detached buffer fails the shim's range check the same way.
   */
  private aim(): void {
    if (this.poll === null) return;
    const g = this.loop.instance;
    const memory = g === null ? null : g.memory;
    if (g === this.aimedGuest && memory === this.aimedMemory) return;
    const native = this.opts.native;
    const ok = native.pollTarget(this.poll, memory, g?.eventsPtr, g?.eventsCap) === 0;
    if (!ok) native.pollTarget(this.poll, null); // unaimed: every wake-up polls from JS
    this.aimedGuest = ok ? g : null;
    this.aimedMemory = ok ? memory : null;
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
      this.loop.counters.endSlice(performance.now());
      this.aim();
      this.armTls();
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
    if (this.slice !== undefined) {
      clearImmediate(this.slice as NodeJS.Immediate);
      clearTimeout(this.slice as NodeJS.Timeout);
    }
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    this.closeListeners();
    if (err) this.settle.reject(err);
    else this.settle.resolve();
  }
}
