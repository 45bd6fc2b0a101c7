/**
 * The host side of one event loop: an epoll instance, the listeners, and one guest instance at
 * a time (a reload overlaps two for a while: host/guest/reload.ts). It is driven from outside
 * (host/driver/native-loop.ts): the blocking driver calls `wait()`, which blocks in epoll_wait
 * until an event or the guest's next deadline; the libuv driver calls `fetched()` with the
 * events its poll fetched into the ring in C (`tick()` when it could not), and `tick()` when its
 * deadline timer fires. Tests call `tick()` by hand over the simulated kernel.
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
import { errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import { asStartError, asTrap, type GuestTrap } from './env.ts';
import { zeroStats } from './exports.ts';
import type { GuestInstance } from './instance.ts';
import type { LoopOptions, LoopStats } from './loop-options.ts';
import { trapCause, type LoopMetrics } from './loop-metrics.ts';
import { LoopBase } from './loop-base.ts';
import { Reloads, type ReloadHost } from './reload.ts';
import type { Salvaged } from './salvage.ts';

export type { LoopOptions, LoopStats } from './loop-options.ts';

export class Loop extends LoopBase {
  /** Instances a reload replaced, while they finish (host/guest/reload.ts). */
  private readonly reloads: Reloads;

  constructor(opts: LoopOptions) {
    super(opts);
    this.reloads = new Reloads(this.reloadHost(), this.counters, opts);
    try {
      this.guest = this.instantiate();
    } catch (err) {
      opts.kernel.close(this.epfd);
      throw asStartError(err, 'guest trapped during start-up');
    }
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
    if (this.reloads.retiring.length > 0) return this.fetchedInReload(n);
    if (n > 0 || force || this.deadlineAt >= 0) {
      const now = this.now();
      if (n > 0 || force || now >= this.deadlineAt) this.dispatch(n, now);
    }
  }

  /** Replaces the guest with an instance of `module` without dropping a connection
   *  (host/guest/reload.ts): once the new instance has started, the listeners and the idle
   *  connections move to it; the old one keeps the requests in flight for up to `drainMs`.
   *  Throws ERR_WASMLOOP_RELOAD, with nothing changed, if the new instance cannot start.
   *  `limits`: the new module's (default: those in force). */
  reload(module: WebAssembly.Module, drainMs: number, limits = this.limits): void {
    const old = this.guest;
    if (old === null || this.state !== 'running' || this.draining)
      throw new WasmloopError('ERR_WASMLOOP_RELOAD', 'cannot reload: the loop is not serving');
    const [wasi, oldPart] = [this.wasi, this.part];
    const parts = this.opts.registry ? (this.opts.registryParts ?? 1) : Infinity;
    const part = this.reloads.freePart(oldPart, parts);
    const next = this.reloads.start(old, () => this.instantiate(module, part, true, limits));
    if (next === null) return this.reloads.failed(); // throws; `old` serves on
    [this.guest, this.module, this.part, this.limits] = [next, module, part, limits];
    this.reloads.begin(old, wasi, oldPart, this.deadlineAt, this.now(), drainMs);
    this.tick(true); // the new guest's first dispatch sets its deadline
  }

  /** Instances a reload replaced that still serve connections. */
  get retiring(): number {
    return this.reloads.retiring.length;
  }

  /** Counters of the current guest plus those of the instances it replaced. */
  stats(): LoopStats {
    const live = this.guest?.stats() ?? zeroStats();
    this.reloads.addStats(live);
    return this.retired.total(live, this.guard);
  }

  /** The counters and what the metrics add to them: traps by cause, slice durations. */
  metrics(): LoopMetrics {
    return { stats: this.stats(), ...this.counters.snapshot() };
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
      this.reloads.shutdown();
      if (this.guest === g) this.dispatch(0);
    }
  }

  /** Closes now: remaining connections are closed, the guest is dropped, epoll is closed. */
  finish(err?: WasmloopError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.reloads.dropAll();
    if (this.guest) {
      this.retired.add(this.guest, this.guest.teardown());
    }
    this.guest = null;
    this.retired.stats.closed += this.recovery.dropAll();
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
    if (g.fatal !== null) return this.caught(g.fatal); // a trap the guest caught
    this.wasi?.flush();
    if (this.draining && g.stats().open === 0 && this.reloads.retiring.length === 0)
      return this.finish();
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
      if (this.guest?.fatal) throw this.guest.fatal; // a trap the guest caught
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
    this.onTrap(asTrap(err, 'guest trapped'));
  }

  /** A trap ends the instance: what it can save waits for the next one, which starts after
   *  the delay the restart budget sets (host/guest/recovery.ts). */
  private onTrap(trap: GuestTrap): void {
    const g = this.guest!;
    const saved = this.draining ? null : this.busy(() => g.salvage());
    this.retired.stats.closed += this.recovery.keep(saved);
    this.retired.add(g, g.teardown());
    this.guest = null;
    const delay = this.recovery.restartDelay(saved?.culprit === true);
    const restarting = delay >= 0 && !this.draining;
    this.opts.onTrap?.(trap, restarting);
    if (this.draining) return this.finish();
    if (!restarting) return this.finish(this.recovery.givingUp(trap));
    this.state = 'restarting';
    setTimeout(() => this.restart(), delay);
  }

  private restart(): void {
    if (this.state !== 'restarting') return;
    let g: GuestInstance;
    try {
      g = this.guest = this.instantiate(this.module, this.part, this.reloads.retiring.length > 0);
      this.retired.restarts++;
      this.state = 'running';
    } catch (err) {
      return this.finish(asStartError(err, 'guest trapped during restart'));
    }
    this.reloads.updateServing();
    if (!this.adoptWaiting(g)) return;
    this.reloads.resume();
    if (this.guest === g) this.tick();
  }

  /** Saved connections go to `g`, one at a time: if adopting one traps, the rest wait for the
   *  instance after this one. False when it trapped. */
  private adoptWaiting(g: GuestInstance): boolean {
    while (this.recovery.waiting && this.guest === g) {
      const h = this.recovery.next()!;
      if (!this.call(() => g.adopt(h, this.now()))) return false;
    }
    return true;
  }

  /** The tick while an instance retires: its events are routed to it and it runs first. */
  private fetchedInReload(n: number): void {
    const now = this.now();
    n = this.reloads.serve(n, now);
    if (this.guest !== null && this.state === 'running') this.dispatch(n, now);
    this.deadlineAt = this.reloads.earliest(this.deadlineAt);
  }

  /** What the retiring instances (host/guest/reload.ts) use of the loop. */
  private reloadHost(): ReloadHost {
    const adoptSaved = (saved: Salvaged) => {
      this.retired.stats.closed += this.recovery.keep(saved);
      if (this.guest !== null) this.adoptWaiting(this.guest);
    };
    const dropped = (g: GuestInstance, closed: number) => {
      this.retired.add(g, closed);
      if (this.draining && this.guest?.stats().open === 0) this.dispatch(0); // it may finish now
    };
    return {
      serving: () => this.guest,
      draining: () => this.draining,
      adoptSaved,
      dropped,
      busy: (fn) => this.busy(fn),
    };
  }
}
