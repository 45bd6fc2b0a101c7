/**
 * The instances a reload replaced, while they finish (docs/DESIGN.md, "Reload"). A reload is a
 * planned salvage: the old instance did not trap, so it goes on serving the connections that
 * are in the middle of a request, and after each of its dispatches it is asked again
 * (`wl_salvage`, planned: host/guest/salvage.ts) which of them are between requests now; those
 * move to the current instance (`wl_adopt`) with their unread input. It is dropped when it holds
 * no connection, or when `drainMs` is over (what it still holds is then closed and counted).
 * Events reach it through its tag (host/guest/retiring.ts).
 *
 * Its connections count toward the current instance's max-connections. A trap in it ends it
 * as a trap ends any instance: what it can save moves to the current instance; it does not
 * count toward the restart budget (the instance was leaving).
 */
import { STAT_NAMES, type GuestStats } from './exports.ts';
import type { GuestInstance } from './instance.ts';
import { WasmloopError } from '../errors.ts';
import { reloadError } from '../module.ts';
import { asTrap } from './env.ts';
import { trapCause, type LoopCounters } from './loop-metrics.ts';
import type { LoopOptions } from './loop-options.ts';
import { freePart, freeTag, MAX_RETIRING, Retiring, routeEvents } from './retiring.ts';
import type { Salvaged } from './salvage.ts';
import type { WasiBinding } from './wasi.ts';

/** What the loop lends its retiring instances. */
export interface ReloadHost {
  /** The serving instance (null while a trapped one waits for its restart). */
  serving(): GuestInstance | null;
  draining(): boolean;
  /** Runs guest code where the watchdog sees it; exceptions pass through. */
  busy<T>(fn: () => T): T;
  /** Connections saved from a retiring instance go to the serving one (or wait for the next). */
  adoptSaved(saved: Salvaged): void;
  /** An instance is dropped: its counters are kept, `closed` added to its guest's own count
   *  (the host closed some; less the slots of moved connections its guest closed too). */
  dropped(g: GuestInstance, closed: number): void;
}

export class Reloads {
  readonly retiring: Retiring[] = [];
  /** Connections closed because their instance's drain time was over. */
  drainClosed = 0;

  private lastError: unknown;

  constructor(
    private readonly host: ReloadHost,
    private readonly counters: LoopCounters,
    private readonly opts: Pick<LoopOptions, 'onTrap' | 'onDeadline'>,
  ) {}

  /** A registry part for the next instance (`current`: the serving one's; `parts`: how many
   *  the registry has). Past MAX_RETIRING, or when no part is free, the oldest retiring
   *  instance is dropped first; with a registry of one part there is no room for a reload. */
  freePart(current: number, parts: number): number {
    this.makeRoom();
    for (;;) {
      const part = freePart(this.retiring, current);
      if (part < parts) return part;
      if (this.retiring.length === 0)
        throw new WasmloopError('ERR_WASMLOOP_RELOAD', 'no registry part for a second instance');
      this.drop(this.retiring[0]!, true);
    }
  }

  /** Starts the instance that replaces `old` (`start`); null when it failed, and then `old`
   *  has its listeners back (`failed()` throws the reason). */
  start(old: GuestInstance, start: () => GuestInstance): GuestInstance | null {
    const suspended = old.gate.suspend(); // the new instance registers the same fds
    try {
      const next = start();
      this.counters.reloads.ok++;
      return next;
    } catch (err) {
      old.gate.restore(suspended);
      this.counters.reloads.failed++;
      this.lastError = err;
      return null;
    }
  }

  /** Throws why the last start failed. */
  failed(): never {
    throw reloadError(this.lastError);
  }

  /** Makes room for one more retiring instance: past MAX_RETIRING the oldest is dropped. */
  makeRoom(): void {
    if (this.retiring.length >= MAX_RETIRING) this.drop(this.retiring[0]!, true);
  }

  /** Adds the retiring instances' counters to `s` (a live instance's); their `open` is the
   *  connections the host still gives them. */
  addStats(s: GuestStats): void {
    for (const r of this.retiring) {
      const rs = r.instance.stats();
      for (const k of STAT_NAMES) s[k] += k === 'open' ? r.connections : rs[k];
      s.closed += r.closedSoFar(r.connections) - rs.closed;
    }
  }

  /** `old` retires (the serving instance is already its successor); its idle connections move
   *  at once. `deadlineAt`: when its guest asked to be called next; it is dropped at
   *  `now + drainMs` (on the loop's clock, so virtual time in the simulated kernel). */
  begin(
    old: GuestInstance,
    wasi: WasiBinding | null,
    part: number,
    deadlineAt: number,
    now: number,
    drainMs: number,
  ): void {
    this.makeRoom();
    const r = new Retiring(old, wasi, freeTag(this.retiring), part);
    old.retire(r.tag);
    r.deadlineAt = deadlineAt;
    r.dropAt = now + drainMs;
    this.opts.onDeadline?.(drainMs); // a driver's timer must reach dropAt with no event
    this.retiring.push(r);
    try {
      this.host.busy(() => old.exports.wl_retire?.()); // it begins no request any more
    } catch (err) {
      return this.trapped(r, err);
    }
    this.migrate(r);
  }

  /** The serving instance is back after a trap: what waited at a request boundary moves now. */
  resume(): void {
    for (const r of this.retiring.slice()) this.migrate(r);
  }

  /** The slow path, taken only while an instance retires: the serving instance's ring holds `n`
   *  events; theirs go to them and they run. Returns how many are the serving instance's. */
  serve(n: number, now: number): number {
    const g = this.host.serving()!;
    const kept = n > 0 ? routeEvents(g, n, this.retiring) : 0;
    for (const r of this.retiring.slice()) {
      const k = r.takeQueued();
      if (now >= r.dropAt) this.drop(r, true);
      else if (k > 0 || (r.deadlineAt >= 0 && now >= r.deadlineAt)) this.dispatch(r, k, now);
    }
    return kept;
  }

  /** The earliest of `deadlineAt` and every retiring instance's deadline and drop time (-1:
   *  none). */
  earliest(deadlineAt: number): number {
    for (const r of this.retiring) {
      const at = r.deadlineAt >= 0 ? Math.min(r.deadlineAt, r.dropAt) : r.dropAt;
      if (deadlineAt < 0 || at < deadlineAt) deadlineAt = at;
    }
    return deadlineAt;
  }

  /** The loop drains: each retiring guest stops too (wl_shutdown: idle connections close, the
   *  others after their request); none moves any more. */
  shutdown(): void {
    for (const r of this.retiring.slice()) {
      try {
        this.host.busy(() => r.instance.exports.wl_shutdown());
      } catch (err) {
        this.report(err);
        this.drop(r, false);
        continue;
      }
      r.wasi?.flush();
      this.settle(r);
    }
  }

  /** The loop ends: every retiring instance is dropped, its connections closed. */
  dropAll(): void {
    for (const r of this.retiring.slice()) this.drop(r, false);
  }

  /** Tells the serving instance how many connections the retiring ones hold (max-connections),
   *  and, once none retires, that its tokens are its own again. Also after a restart. */
  updateServing(): void {
    const g = this.host.serving();
    if (g === null) return;
    let others = 0;
    for (const r of this.retiring) others += r.connections;
    g.setOthers(others);
    if (this.retiring.length === 0) g.tokenRule = 0;
  }

  private dispatch(r: Retiring, n: number, now: number): void {
    let next: number;
    try {
      next = this.host.busy(() => r.instance.exports.wl_dispatch(n, now));
    } catch (err) {
      return this.trapped(r, err);
    }
    if (r.instance.fatal !== null) return this.trapped(r, r.instance.fatal); // caught by the guest
    r.wasi?.flush();
    r.deadlineAt = next >= 0 ? now + next : -1;
    if (next >= 0) this.opts.onDeadline?.(next);
    this.migrate(r);
  }

  /** Moves the connections that are between requests now to the serving instance. */
  private migrate(r: Retiring): void {
    if (this.host.serving() !== null && !this.host.draining()) {
      const saved = this.host.busy(() => r.instance.salvage(true));
      r.moved += saved.handovers.length;
      this.host.adoptSaved(saved);
      if (saved.trap !== undefined) return this.trapped(r, saved.trap);
    }
    this.settle(r);
  }

  private settle(r: Retiring): void {
    if (r.connections === 0) this.drop(r, false);
    else this.updateServing();
  }

  /** A trap ends it: what it can save moves on (not while the loop drains), the rest close. */
  private trapped(r: Retiring, err: unknown): void {
    this.report(err);
    if (!this.host.draining()) {
      const saved = this.host.busy(() => r.instance.salvage());
      r.moved += saved.handovers.length;
      this.host.adoptSaved(saved);
    }
    this.drop(r, false);
  }

  /** Counts and reports a retiring instance's trap (it does not count toward maxRestarts). */
  private report(err: unknown): void {
    this.counters.traps[trapCause(err)]++;
    this.opts.onTrap?.(asTrap(err, 'a retiring guest trapped'), true);
  }

  private drop(r: Retiring, timedOut: boolean): void {
    const at = this.retiring.indexOf(r);
    if (at < 0) return;
    this.retiring.splice(at, 1);
    const closed = r.instance.teardown();
    if (timedOut) this.drainClosed += closed;
    this.host.dropped(r.instance, r.closedSoFar(0) - r.instance.stats().closed);
    this.updateServing();
  }
}
