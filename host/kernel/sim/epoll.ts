/**
 * A simulated epoll instance, modelled on Linux's ready list:
 *  - a socket state change (`SimSocket.notify`) puts each registration whose socket is now
 *    ready for its interest at the tail of its epoll's ready list (no-op if already there);
 *    EPOLL_CTL_ADD and EPOLL_CTL_MOD do the same;
 *  - `wait` takes registrations from the head, re-polls each (one no longer ready is dropped),
 *    reports it, and puts level-triggered ones back at the tail (so with more ready sockets
 *    than `maxEvents`, the others come first next time, round-robin). Edge-triggered ones
 *    come back only with the next state change; one-shot ones are disarmed until EPOLL_CTL_MOD.
 *
 * So a wait costs O(events reported + stale entries dropped), not O(sockets registered).
 * Report order is the wakeup order, hence deterministic; the `reorder` fault rotates it by a
 * seeded amount to model the coalescing a real kernel may do.
 */
import {
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EVENT_SIZE,
} from '../contract.ts';
import type { FaultTally, SimFaults } from './faults.ts';
import type { Random } from './random.ts';
import type { SimSocket, Watcher } from './socket.ts';
import { Queue } from './util.ts';

/** EPOLLONESHOT (Linux value): report once, then stay silent until EPOLL_CTL_MOD. */
export const EPOLLONESHOT = 0x40000000;

/** Reported whatever the interest (as in Linux). */
const ALWAYS = EPOLLERR | EPOLLHUP;

/** The bits epollCtl accepts; anything else is -EINVAL (stricter than Linux, which ignores it). */
export const ALLOWED_EVENTS =
  (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLONESHOT | EPOLLET) >>> 0;

/** One (epoll, socket) pair: the interest and the 64-bit token. Events are stored unsigned. */
class Registration implements Watcher {
  /** False after a one-shot report, until re-armed by EPOLL_CTL_MOD. */
  armed = true;
  /** Position in `Epoll.list` (kept up to date by swap-removal). */
  index = -1;
  /** The wait batch that last reported this registration (no duplicates within a batch). */
  batch = 0;

  constructor(
    readonly ep: Epoll,
    readonly sock: SimSocket,
    public events: number,
    public lo: number,
    public hi: number,
  ) {}

  /** What a wait would report now: 0 when not ready or disarmed. */
  mask(): number {
    return this.armed ? this.sock.poll() & (this.events | ALWAYS) : 0;
  }

  notify(): void {
    if (this.mask() !== 0) this.ep.ready.add(this);
  }

  detach(): void {
    this.ep.remove(this.sock);
  }

  /** Called once reported: decides whether it stays on the ready list. */
  reported(batch: number): boolean {
    this.batch = batch;
    if (this.events & EPOLLONESHOT) this.armed = false;
    return this.armed && (this.events & EPOLLET) === 0;
  }
}

/** Writes one packed record: u32 events, u32 token_lo, u32 token_hi, little-endian. */
function writeEvent(view: DataView, at: number, events: number, lo: number, hi: number): void {
  view.setUint32(at, events >>> 0, true);
  view.setUint32(at + 4, lo >>> 0, true);
  view.setUint32(at + 8, hi >>> 0, true);
}

export class Epoll {
  /** Registrations that may be ready, in report order (a JS Set iterates in insertion order). */
  readonly ready = new Set<Registration>();
  private readonly regs = new Map<SimSocket, Registration>();
  /** The same registrations as `regs`, indexable (for the seeded `spurious` pick). */
  private readonly list: Registration[] = [];
  /** Raw records from `SimKernel.injectEvent`, reported first by the next wait. */
  private readonly injected = new Queue<[number, number, number]>();
  private batch = 0;

  has(sock: SimSocket): boolean {
    return this.regs.has(sock);
  }

  add(sock: SimSocket, events: number, lo: number, hi: number): void {
    const reg = new Registration(this, sock, events >>> 0, lo >>> 0, hi >>> 0);
    reg.index = this.list.push(reg) - 1;
    this.regs.set(sock, reg);
    sock.watchers.add(reg);
    reg.notify();
  }

  /** The caller has checked `has(sock)`. Re-arms a one-shot registration. */
  modify(sock: SimSocket, events: number, lo: number, hi: number): void {
    const reg = this.regs.get(sock) as Registration;
    reg.events = events >>> 0;
    reg.lo = lo >>> 0;
    reg.hi = hi >>> 0;
    reg.armed = true;
    reg.notify();
  }

  remove(sock: SimSocket): void {
    const reg = this.regs.get(sock);
    if (reg === undefined) return;
    this.regs.delete(sock);
    this.ready.delete(reg);
    sock.watchers.delete(reg);
    const last = this.list.pop() as Registration;
    if (last !== reg) {
      this.list[reg.index] = last;
      last.index = reg.index;
    }
  }

  /** Forgets every registration (the epoll descriptor is being closed). */
  close(): void {
    for (const sock of [...this.regs.keys()]) this.remove(sock);
    this.injected.drain();
  }

  inject(events: number, lo: number, hi: number, tally: FaultTally): void {
    this.injected.push([events >>> 0, lo >>> 0, hi >>> 0]);
    tally.chance('injectedEvent', 1); // the next wait reports it
  }

  /** Writes up to `max` records at `view[offset..]` (the caller checked the bounds). */
  wait(
    view: DataView,
    offset: number,
    max: number,
    rng: Random,
    faults: SimFaults,
    tally: FaultTally,
  ): number {
    const batch = ++this.batch;
    let n = 0;
    while (n < max && this.injected.length > 0) {
      const [events, lo, hi] = this.injected.shift() as [number, number, number];
      writeEvent(view, offset + n++ * EVENT_SIZE, events, lo, hi);
      tally.hit('injectedEvent');
    }
    const size = this.ready.size;
    if (size >= 2) tally.chance('reorder', ((faults.reorder ?? 0) * (size - 1)) / size); // rotating by 0 is no reorder
    if (rng.chance(faults.reorder)) this.rotate(rng.int(0, size - 1), tally);
    n = this.drainReady(view, offset, n, max, batch);
    if (n < max && this.list.length > 0) {
      if ((faults.spurious ?? 0) > 0)
        tally.chance('spurious', faults.spurious! * this.spuriousOdds(batch));
      if (rng.chance(faults.spurious)) n = this.spuriousEvent(view, offset, n, batch, rng, tally);
    }
    return n;
  }

  /** One extra EPOLLIN for a random registration: only an armed EPOLLIN interest, and never
   *  one fd twice in a batch (as in Linux). */
  private spuriousEvent(
    view: DataView,
    offset: number,
    n: number,
    batch: number,
    rng: Random,
    tally: FaultTally,
  ): number {
    const reg = this.list[rng.int(0, this.list.length - 1)];
    if (reg === undefined || !this.canSpurious(reg, batch)) return n;
    writeEvent(view, offset + n * EVENT_SIZE, EPOLLIN, reg.lo, reg.hi);
    reg.reported(batch);
    tally.hit('spurious');
    return n + 1;
  }

  private canSpurious(reg: Registration, batch: number): boolean {
    return reg.armed && reg.batch !== batch && (reg.events & EPOLLIN) !== 0;
  }

  /** The share of registrations a spurious event may pick now (for the fault tally). */
  private spuriousOdds(batch: number): number {
    let fit = 0;
    for (const reg of this.list) if (this.canSpurious(reg, batch)) fit++;
    return fit / this.list.length;
  }

  /** Reports ready registrations from the head of the list until `max` records are written. */
  private drainReady(
    view: DataView,
    offset: number,
    n: number,
    max: number,
    batch: number,
  ): number {
    const again: Registration[] = [];
    for (const reg of this.ready) {
      if (n >= max) break;
      this.ready.delete(reg);
      const mask = reg.mask();
      if (mask === 0) continue;
      writeEvent(view, offset + n++ * EVENT_SIZE, mask, reg.lo, reg.hi);
      if (reg.reported(batch)) again.push(reg);
    }
    for (const reg of again) this.ready.add(reg);
    return n;
  }

  /** Moves the first `k` ready registrations to the tail. */
  private rotate(k: number, tally: FaultTally): void {
    const moved: Registration[] = [];
    for (const reg of this.ready) {
      if (moved.length >= k) break;
      moved.push(reg);
    }
    for (const reg of moved) {
      this.ready.delete(reg);
      this.ready.add(reg);
    }
    if (moved.length > 0 && moved.length < this.ready.size) tally.hit('reorder');
  }
}
