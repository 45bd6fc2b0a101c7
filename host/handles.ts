/**
 * The per-instance handle table: the only mapping from what a guest can name to a real file
 * descriptor. A guest never sees an fd; it sees handles, and a handle is valid only if this
 * table issued it to this instance and it has not been closed since.
 *
 *   30          20 19                 0
 *   +------------+--------------------+
 *   | generation |  index (1 .. 2^20) |     handle (always a positive i32)
 *   +------------+--------------------+
 *
 * The generation (11 bits) changes every time an index is freed, so a stale handle kept by a
 * guest after close() is -EBADF rather than a different connection of its own.
 */
import { Errno } from './errno.ts';

export enum Kind {
  Free = 0,
  Listener = 1,
  Conn = 2,
}

const INDEX_BITS = 20;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
const GEN_MASK = 0x7ff;
const MAX_INDEX = INDEX_MASK;

export class HandleTable {
  private fds = new Int32Array(64).fill(-1);
  private kinds = new Uint8Array(64);
  private gens = new Uint16Array(64);
  private watched = new Uint8Array(64); // 1 while the handle is in the epoll interest set
  private free: number[] = [];
  private next = 1; // index 0 is never issued, so no handle is 0
  private conns = 0;

  /** `registry`, when given, mirrors index -> fd (-1 when free) in memory another thread can
   *  read (worker mode: the pool closes a dead worker's fds from it). Its length caps the table. */
  constructor(private readonly registry?: Int32Array) {}

  /** Issues a handle for `fd`, or -ENFILE when the table is full. */
  add(fd: number, kind: Kind): number {
    const limit = this.registry ? this.registry.length - 1 : MAX_INDEX;
    if (this.free.length === 0 && this.next > limit) return -Errno.ENFILE;
    const index = this.free.length > 0 ? this.free.pop()! : this.next++;
    if (this.registry) this.registry[index] = fd;
    if (index >= this.fds.length) this.grow();
    this.fds[index] = fd;
    this.kinds[index] = kind;
    this.watched[index] = 0;
    if (kind === Kind.Conn) this.conns++;
    return (this.gens[index]! << INDEX_BITS) | index;
  }

  /**
   * The fd behind `handle` if it is open and of `kind`: -EBADF for a handle this table did not
   * issue or that was closed, -EINVAL for one of another kind.
   */
  fd(handle: number, kind: Kind): number {
    const index = this.indexOf(handle);
    if (index < 0) return -Errno.EBADF;
    return this.kinds[index] === kind ? this.fds[index]! : -Errno.EINVAL;
  }

  /** The slot index of an open handle, or -1. Accepts any JS number. */
  indexOf(handle: number): number {
    if (!Number.isInteger(handle) || handle <= 0) return -1;
    const index = handle & INDEX_MASK;
    if (index >= this.next || this.kinds[index] === Kind.Free) return -1;
    return this.gens[index] === (handle >>> INDEX_BITS) ? index : -1;
  }

  kindAt(index: number): Kind {
    return this.kinds[index] as Kind;
  }

  isWatched(index: number): boolean {
    return this.watched[index] === 1;
  }

  setWatched(index: number, on: boolean): void {
    this.watched[index] = on ? 1 : 0;
  }

  fdAt(index: number): number {
    return this.fds[index]!;
  }

  /** Frees an open handle's slot (the caller closes the fd). */
  remove(index: number): void {
    if (this.kinds[index] === Kind.Conn) this.conns--;
    this.kinds[index] = Kind.Free;
    this.fds[index] = -1;
    if (this.registry) this.registry[index] = -1;
    this.watched[index] = 0;
    this.gens[index] = (this.gens[index]! + 1) & GEN_MASK;
    this.free.push(index);
  }

  /** Open connection handles. */
  get connections(): number {
    return this.conns;
  }

  /** Calls `fn` with the index of every open handle of `kind`. */
  forEach(kind: Kind, fn: (index: number) => void): void {
    for (let i = 1; i < this.next; i++) if (this.kinds[i] === kind) fn(i);
  }

  private grow(): void {
    const size = this.fds.length * 2;
    const fds = new Int32Array(size).fill(-1);
    fds.set(this.fds);
    this.fds = fds;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const gens = new Uint16Array(size);
    gens.set(this.gens);
    this.gens = gens;
    const watched = new Uint8Array(size);
    watched.set(this.watched);
    this.watched = watched;
  }
}
