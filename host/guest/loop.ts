/**
 * The host side of one event loop: an epoll instance, the listeners, and one guest instance at
 * a time. It is driven from outside (host/driver/native-loop.ts): the blocking driver calls
 * `wait()`, which blocks in epoll_wait until an event or the guest's next deadline; the libuv
 * driver calls `fetched()` with the events its poll fetched into the ring in C when libuv sees
 * the epoll fd readable (`tick()` when it could not), and `tick()` when its deadline timer fires.
 * Tests call `tick()` by hand over the simulated kernel.
 *
 * One tick reads top to bottom:
 *   1. epoll_wait (timeout 0 from tick(), up to the guest's deadline from wait()) writes ready
 *      events straight into the guest's event ring;
 *   2. if there were events, the guest's deadline has passed or a driver's timer fired,
 *      wl_dispatch(n, now) lets the guest handle them and returns its next deadline;
 *   3. the guest's WASI output is flushed and the deadline kept: it bounds the next wait(),
 *      and the libuv driver arms it as a Node timer (onDeadline).
 * A trap in step 2 ends the instance: the connections it can name as safe to move go to a fresh
 * one (host/guest/salvage.ts), the one that trapped gets the guest's trap reply, the rest are closed,
 * the listeners are kept; traps no connection caused count toward `maxRestarts` in a row.
 */
import { performance } from 'node:perf_hooks'; // the global one is a getter, paid on every read
import { errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import { GuestTrap } from './env.ts';
import { STAT_NAMES, zeroStats, type GuestStats } from './exports.ts';
import { GuestInstance } from './instance.ts';
import type { Fd, Kernel } from '../kernel/contract.ts';
import { peerGuardFor, type PeerGuard } from './peer-guard.ts';
import { TrapRecovery } from './recovery.ts';
import type { LoopOptions, LoopStats } from './loop-options.ts';
import { LoopCounters, trapCause, type LoopMetrics } from './loop-metrics.ts';
import { createWasi, type WasiBinding } from './wasi.ts';
import { usesWasi } from '../module.ts';

export type { LoopOptions, LoopStats } from './loop-options.ts';

export class Loop {
  readonly epfd: Fd;
  private guest: GuestInstance | null = null;
  private wasi: WasiBinding | null = null;
  private readonly now: () => number;
  private restarts = 0;
  private retired: GuestStats = zeroStats(); // counters of instances no longer running
  private draining = false;
  private state: 'running' | 'restarting' | 'closed' = 'running';
  private deadlineAt = -1;
  /** The trap budget per peer; it outlives the instances. */
  private readonly guard: PeerGuard;
  /** Connections saved from a trap and the restart budget (host/guest/recovery.ts). */
  private readonly recovery: TrapRecovery;
  /** Traps by cause and slice durations; a driver's clock reading after a dispatch ends the
   *  slice it began (`counters.endSlice`). */
  readonly counters = new LoopCounters();

  constructor(private readonly opts: LoopOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.guard = peerGuardFor(opts.limits ?? {}, opts.kernel, this.now);
    this.recovery = new TrapRecovery(opts, this.guard, this.now);
    const epfd = opts.kernel.epollCreate();
    if (epfd < 0)
      throw new WasmloopError('ERR_WASMLOOP_EPOLL', `epoll_create1 failed: ${errnoName(epfd)}`);
    this.epfd = epfd;
    if (opts.registry) opts.registry[0] = epfd;
    try {
      this.guest = this.instantiate();
    } catch (err) {
      opts.kernel.close(epfd);
      throw err instanceof WasmloopError
        ? err
        : new GuestTrap(`guest trapped during start-up: ${(err as Error).message}`, { cause: err });
    }
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Polls the kernel once without blocking and dispatches what it found, and the guest's
   *  deadline if it has passed (or `force`: a driver's timer fired). Returns the event count. */
  tick(force = false): number {
    return this.wait(0, force);
  }

  /** Like tick(), but lets epoll_wait block for up to `timeoutMs` (the blocking driver). The
   *  wait never outlasts the guest's own deadline; `before` is the caller's clock reading, if it
   *  has one, to spare another. Returns the event count. */
  wait(timeoutMs: number, force = false, before?: number): number {
    const g = this.guest;
    if (g === null) return 0;
    if (timeoutMs > 0 && this.deadlineAt >= 0) {
      timeoutMs = Math.max(
        0,
        Math.min(timeoutMs, Math.ceil(this.deadlineAt - (before ?? this.now()))),
      );
    }
    const n = this.opts.kernel.epollWait(this.epfd, g.memory, g.eventsPtr, g.eventsCap, timeoutMs);
    if (before !== undefined) this.counters.endSlice(before); // the blocking driver's reading
    if (n < 0) {
      this.finish(new WasmloopError('ERR_WASMLOOP_EPOLL', `epoll_wait failed: ${errnoName(n)}`));
      return 0;
    }
    this.fetched(n, force);
    return n;
  }

  /** The second half of wait(): dispatches the `n` events already in the current guest's ring
   *  (the libuv driver's poll fetches them in C), and its deadline if it has passed. */
  fetched(n: number, force = false): void {
    if (this.guest === null) return;
    if (n > 0 || force || this.deadlineAt >= 0) {
      const now = this.now();
      if (n > 0 || force || now >= this.deadlineAt) this.dispatch(n, now);
    }
  }

  /** Counters of the current guest plus those of the instances it replaced. */
  stats(): LoopStats {
    const live = this.guest?.stats() ?? zeroStats();
    const out = {
      restarts: this.restarts,
      connectionsRefused: this.guard.refused,
      peersBlocked: this.guard.blocks,
    } as LoopStats;
    for (const k of STAT_NAMES) out[k] = live[k] + this.retired[k];
    return out;
  }

  /** The counters and what the metrics add to them: traps by cause, slice durations. */
  metrics(): LoopMetrics {
    return { stats: this.stats(), ...this.counters.snapshot() };
  }

  /** The current guest instance (tests use it to reach test-only exports). */
  get instance(): GuestInstance | null {
    return this.guest;
  }

  /** Begins a graceful drain: the guest stops accepting (wl_shutdown) and loses its listeners,
   *  which the owner may close as soon as this returns. The loop closes itself when no
   *  connection is left open; `finish()` forces the end. */
  drain(): void {
    if (this.draining || this.state === 'closed') return;
    this.draining = true;
    const g = this.guest;
    if (g === null) return this.finish();
    if (this.call(() => g.exports.wl_shutdown())) {
      g.releaseListeners();
      this.dispatch(0);
    }
  }

  /** Closes now: remaining connections are closed, the guest is dropped, epoll is closed. */
  finish(err?: WasmloopError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.guest) {
      this.retire(this.guest);
      this.retired.closed += this.guest.teardown();
    }
    this.guest = null;
    this.retired.closed += this.recovery.dropAll();
    this.opts.onStopping?.();
    if (this.opts.registry) this.opts.registry[0] = -1;
    this.opts.kernel.close(this.epfd);
    this.opts.onClosed?.(err);
  }

  /** Calls wl_dispatch. This is the hot path: no closure, no clock read of its own. */
  private dispatch(n: number, now = this.now()): void {
    const g = this.guest!;
    const busy = this.opts.onBusy;
    let next: number;
    try {
      busy?.(true, now);
      this.counters.sliceStart = now;
      next = g.exports.wl_dispatch(n, now);
      busy?.(false);
    } catch (err) {
      return this.caught(err);
    }
    this.wasi?.flush();
    if (this.draining && g.stats().open === 0) return this.finish();
    this.deadlineAt = next >= 0 ? now + next : -1;
    if (next >= 0) this.opts.onDeadline?.(next);
  }

  /** Runs a guest call that is not on the hot path; on a trap, handles it and returns false. */
  private call(fn: () => void): boolean {
    const busy = this.opts.onBusy;
    try {
      busy?.(true);
      fn();
      busy?.(false);
    } catch (err) {
      this.caught(err);
      return false;
    }
    this.wasi?.flush();
    return true;
  }

  private caught(err: unknown): void {
    this.opts.onBusy?.(false);
    this.wasi?.flush();
    this.counters.traps[trapCause(err)]++;
    this.onTrap(
      err instanceof GuestTrap
        ? err
        : new GuestTrap(`guest trapped: ${(err as Error).message}`, { cause: err }),
    );
  }

  /** A trap ends the instance: what it can save waits for the next one, which starts after
   *  the delay the restart budget sets (host/guest/recovery.ts). */
  private onTrap(trap: GuestTrap): void {
    const g = this.guest!;
    const saved = this.draining ? null : this.busy(() => g.salvage());
    this.retired.closed += this.recovery.keep(saved);
    this.retire(g);
    this.retired.closed += g.teardown();
    this.guest = null;
    const delay = this.recovery.restartDelay(saved?.culprit === true);
    const restarting = delay >= 0 && !this.draining;
    this.opts.onTrap?.(trap, restarting);
    if (this.draining) return this.finish();
    if (!restarting) return this.finish(this.recovery.givingUp(trap));
    this.state = 'restarting';
    setTimeout(() => this.restart(), delay);
  }

  /** Guest code off the hot path that a watchdog must see (instantiation, salvage); rethrows. */
  private busy<T>(fn: () => T): T {
    this.opts.onBusy?.(true);
    try {
      return fn();
    } finally {
      this.opts.onBusy?.(false);
    }
  }

  private restart(): void {
    if (this.state !== 'restarting') return;
    let g: GuestInstance;
    try {
      g = this.guest = this.instantiate();
      this.restarts++;
      this.state = 'running';
    } catch (err) {
      return this.finish(
        err instanceof WasmloopError
          ? err
          : new GuestTrap(`guest trapped during restart: ${(err as Error).message}`, {
              cause: err,
            }),
      );
    }
    // One at a time: if adopting one traps, the rest wait for the instance after this one.
    while (this.recovery.waiting && this.guest === g) {
      const h = this.recovery.next()!;
      if (!this.call(() => g.adopt(h, this.now()))) return;
    }
    this.tick();
  }

  /** Folds an instance's counters into the totals before it is dropped. Gauges (open
   *  connections, buffers in use) describe the live instance only. */
  private retire(g: GuestInstance): void {
    const s = g.stats();
    for (const k of STAT_NAMES) if (k !== 'open' && k !== 'buffersInUse') this.retired[k] += s[k];
  }

  private instantiate(): GuestInstance {
    const { module, kernel, listeners } = this.opts;
    this.wasi = usesWasi(module) ? createWasi(module, this.opts.wasi ?? {}) : null;
    const wasi = this.wasi;
    return this.busy(() => this.newInstance(module, kernel, listeners, wasi)); // wl_init and the start function are guest code too
  }

  private newInstance(
    module: WebAssembly.Module,
    kernel: Kernel,
    listeners: readonly Fd[],
    wasi: WasiBinding | null,
  ): GuestInstance {
    return new GuestInstance(module, {
      kernel,
      epfd: this.epfd,
      listeners,
      now: this.now,
      ...(this.opts.wallClock ? { wallClock: this.opts.wallClock } : {}),
      limits: this.opts.limits ?? {},
      registry: this.opts.registry,
      handoff: this.opts.handoff,
      seed: this.opts.seed,
      peerGuard: this.guard,
      acceptErrors: this.counters.acceptErrors,
      generationBits: this.opts.generationBits,
      ...(wasi ? { extraImports: wasi.imports, onInstantiate: (i) => wasi.bind(i) } : {}),
    });
  }
}
