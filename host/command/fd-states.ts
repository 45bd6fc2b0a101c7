/**
 * Per host fd state for host/command/ready.ts, in typed arrays indexed by the fd (grown to the
 * highest fd seen), so a wait neither allocates nor clears anything: what belongs to the
 * current wait, or to its last epoll_wait, is told by a stamp equal to that wait's number.
 * A stamp of 0 means never; the counters skip 0 and, before they could wrap, every stamp is
 * reset (after 2^32 - 2 waits).
 */
import { fstatSync, readFileSync } from 'node:fs';
import { Errno } from '../errno.ts';

export interface ReadState {
  error: number;
  /** Bytes known to be readable: exact for a regular file, 0 where the host cannot tell (a
   *  pipe or terminal with input: at least one byte; at end of input: none, with `hangup`). */
  nbytes: number;
  /** The writer or peer has gone (EPOLLHUP / EPOLLRDHUP): at end of input, or soon after. */
  hangup: boolean;
}

const LAST_STAMP = 0xfffffffe;

export class FdStates {
  /** The interest registered with epoll now, or -1: not registered. */
  private registered = new Int32Array(64).fill(-1);
  registeredCount = 0;
  /** The wait that wants the fd, and the interest it asked for. */
  wantedIn = new Uint32Array(64);
  wantedEvents = new Uint32Array(64);
  /** The epoll_wait that reported the fd, and its events. */
  private eventsIn = new Uint32Array(64);
  private eventMask = new Uint32Array(64);
  private epollWait = 1;

  /** Makes room for `fd`; returns this, for chaining. */
  reserve(fd: number): this {
    if (fd >= this.registered.length) this.grow(fd + 1);
    return this;
  }

  /** A new wait's number (stamps of older waits no longer match). */
  nextWait(wait: number): number {
    if (wait < LAST_STAMP) return wait + 1;
    this.wantedIn.fill(0);
    return 1;
  }

  /** Forgets every epoll_wait's events (a new epoll_wait, or a new wait, begins). */
  nextEpollWait(): void {
    if (++this.epollWait < LAST_STAMP) return;
    this.eventsIn.fill(0);
    this.epollWait = 1;
  }

  setEvents(fd: number, events: number): void {
    this.eventsIn[fd] = this.epollWait;
    this.eventMask[fd] = events;
  }

  /** `fd`'s events from the last epoll_wait; 0 when it reported none. */
  eventsOf(fd: number): number {
    return fd < this.eventsIn.length && this.eventsIn[fd] === this.epollWait
      ? this.eventMask[fd]!
      : 0;
  }

  registeredEvents(fd: number): number {
    return fd < this.registered.length ? this.registered[fd]! : -1;
  }

  setRegistered(fd: number, events: number): void {
    this.reserve(fd);
    if (this.registered[fd] === -1) this.registeredCount++;
    this.registered[fd] = events;
  }

  /** Marks `fd` unregistered; false when it was not registered. */
  unregister(fd: number): boolean {
    if (this.registeredEvents(fd) === -1) return false;
    this.registered[fd] = -1;
    this.registeredCount--;
    this.wantedIn[fd] = 0;
    this.eventsIn[fd] = 0;
    return true;
  }

  clear(): void {
    this.registered.fill(-1);
    this.registeredCount = 0;
  }

  private grow(min: number): void {
    const size = Math.max(min, this.registered.length * 2);
    const widen = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.registered = widen(this.registered, (n) => new Int32Array(n).fill(-1));
    this.wantedIn = widen(this.wantedIn, (n) => new Uint32Array(n));
    this.wantedEvents = widen(this.wantedEvents, (n) => new Uint32Array(n));
    this.eventsIn = widen(this.eventsIn, (n) => new Uint32Array(n));
    this.eventMask = widen(this.eventMask, (n) => new Uint32Array(n));
  }
}

/** The answer for an fd epoll refused with `rc`: a regular file or /dev/null (EPERM) is
 *  readable with its remaining bytes; anything else is that error. */
export function fixedReadState(fd: number, rc: number): ReadState {
  if (rc === -Errno.EPERM) return { error: 0, nbytes: bytesLeft(fd), hangup: false };
  return { error: -rc, nbytes: 0, hangup: false };
}

/** For a regular file: the bytes between the fd's offset and the end; otherwise 0. The offset
 *  is the kernel's (/proc/self/fdinfo), so input a parent already consumed is not counted. */
function bytesLeft(fd: number): number {
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return 0;
    const pos = Number(
      /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? 0,
    );
    return Math.max(stat.size - pos, 0);
  } catch {
    return 0;
  }
}
