/**
 * The per-instance handle table: the only mapping from what a guest can name to a real file
 * descriptor. A guest never sees an fd; it sees handles, and a handle is valid only if this
 * table issued it to this instance and it has not been closed since.
 *
 *   30               B B-1              0
 *   +-----------------+-----------------+
 *   |   generation    | index (1..2^B-1)|     handle (always a positive i32)
 *   +-----------------+-----------------+
 *
 * Invariant: no handle value is ever issued twice by one table, so a handle kept after
 * close() is -EBADF forever and can never name a later connection. How:
 *  - B is the fewest bits that hold every handle the instance may have open at once
 *    (max-connections + listeners + the spare), and the generation gets the other 31 - B bits;
 *  - fresh indices are used before any is reused, then freed indices are reused in FIFO
 *    order, so all 2^B - 1 indices age together and the whole 31-bit space (about 2^31
 *    handles) is used before anything runs out;
 *  - an index whose generation would wrap is retired, never reused.
 * When no index is left to issue (about 2^31 accepts into one instance) the table says
 * EXHAUSTED and the instance must be replaced (host/guest/instance.ts turns that into a trap; the
 * loop saves the connections it can and starts a fresh instance with a fresh table).
 *
 * Writes that record a syscall's result are plain stores into public arrays, so the caller
 * can make them right after the syscall with no call in between (accept in
 * host/guest/hostcalls.ts, close in host/guest/instance.ts): a call can throw RangeError near the JS stack limit, and a throw between the syscall
 * and its record would orphan an fd or leave a closed one in the table.
 */
import { Errno } from '../errno.ts';
import type { Fd } from '../kernel/contract.ts';

/**
 * What a guest names a connection or listener by (or, where a result may be one, a negative
 * errno). Branded so that the compiler refuses an fd or a plain number where a handle is
 * expected and a handle where an fd is (kernel/contract.ts `Fd`); compile time only. A
 * number from the guest becomes a Handle at the hostcall boundary, and is then checked here.
 */
export type Handle = number & { readonly __brand: 'Handle' };

export enum Kind {
  Free = 0,
  Listener = 1,
  Conn = 2,
  /** Its generations are used up: never issued again. */
  Retired = 3,
}

/** prepareAccept(): the connection limit is reached / no index can be issued any more. */
export const FULL = -1;
export const EXHAUSTED = -2;

const HANDLE_BITS = 31;
const INITIAL_SIZE = 64;

export interface HandleTableOptions {
  /** Connections open at once, at most (the host enforces max-connections here). */
  maxConnections: number;
  /** Listener handles the instance is given. */
  listeners: number;
  /** A mirror of index -> fd (-1 when free) that another thread can read (worker mode: the
   *  pool closes a dead worker's fds from it). At least handleTableSize() long. */
  registry?: Int32Array;
  /** Tests only: fewer generation bits, so that exhaustion comes quickly. */
  generationBits?: number;
}

/** Index bits for a table holding `handles` open at once (index 0 is never issued). */
function indexBits(handles: number): number {
  let bits = 1;
  while ((1 << bits) - 1 < handles) bits++;
  return bits;
}

/** Length of the registry a table for these limits needs (index -> fd, slot 0 unused). */
export function handleTableSize(maxConnections: number, listeners: number): number {
  return 2 ** indexBits(maxConnections + listeners + 1);
}

export class HandleTable {
  /** index -> fd (-1: none). Public so a syscall's result is recorded by a plain store. */
  fds = new Int32Array(INITIAL_SIZE).fill(-1);
  /** 1 while the handle may be in the epoll interest set (set before ADD, cleared after DEL). */
  watched = new Uint8Array(INITIAL_SIZE);
  /** The last interest and token `watch` asked for each index (events, lo, hi at 3*index):
   *  a reload re-registers a retiring instance's connections under a host token and gives
   *  each event back its own (host/guest/retiring.ts). Written per watch, never per event. */
  interest = new Uint32Array(3 * INITIAL_SIZE);
  /** Connections of other instances of the same loop (retiring after a reload): they count
   *  toward max-connections too, so the limit holds for the instances together. */
  others = 0;
  readonly registry: Int32Array | undefined;
  /** An fd accept(2) returned for `spare` whose recording was interrupted (else -1). */
  pendingFd = -1;
  /** The index the next accepted connection takes (-1: none set aside yet). */
  spare = -1;
  private kinds = new Uint8Array(INITIAL_SIZE);
  private gens = new Uint32Array(INITIAL_SIZE);
  private nextFree = new Int32Array(INITIAL_SIZE); // FIFO of freed indices, linked through here
  private freeHead = -1;
  private freeTail = -1;
  private next = 1; // the next fresh index; index 0 is never issued, so no handle is 0
  private conns = 0;
  private readonly bits: number;
  private readonly maxIndex: number;
  private readonly lastGen: number;
  private readonly maxConns: number;

  constructor(opts: HandleTableOptions) {
    this.maxConns = opts.maxConnections;
    this.bits = indexBits(opts.maxConnections + opts.listeners + 1);
    this.maxIndex = 2 ** this.bits - 1;
    const genBits = Math.min(opts.generationBits ?? HANDLE_BITS, HANDLE_BITS - this.bits);
    this.lastGen = 2 ** genBits - 1;
    this.registry = opts.registry;
    if (this.registry && this.registry.length <= this.maxIndex) {
      throw new RangeError(
        `handle registry of ${this.registry.length} slots, ${this.maxIndex + 1} needed`,
      );
    }
  }

  /** Issues a handle for `fd` (a listener, or an adopted connection): -ENFILE when the
   *  connection limit is reached or no index is left. */
  add(fd: Fd, kind: Kind): Handle {
    if (kind === Kind.Conn && this.conns + this.others >= this.maxConns)
      return -Errno.ENFILE as Handle;
    const index = this.take();
    if (index < 0) return -Errno.ENFILE as Handle;
    if (this.registry) this.registry[index] = fd;
    this.fds[index] = fd;
    return this.record(index, kind);
  }

  /** Sets an index aside for the next accepted connection: 0, FULL or EXHAUSTED. The caller
   *  then stores the fd in `pendingFd` (and the registry at `spare`) and calls commitAccept(). */
  prepareAccept(): number {
    if (this.pendingFd >= 0) this.commitAccept(); // an earlier commit was interrupted
    if (this.conns + this.others >= this.maxConns) return FULL;
    if (this.spare < 0) this.spare = this.take();
    return this.spare < 0 ? EXHAUSTED : 0;
  }

  /** Makes `pendingFd` the connection in `spare`; returns its handle. No call inside. */
  commitAccept(): Handle {
    const index = this.spare;
    this.fds[index] = this.pendingFd;
    this.pendingFd = -1;
    this.spare = -1;
    return this.record(index, Kind.Conn);
  }

  /**
   * The fd behind `handle` if it is open and of `kind`: -EBADF for a handle this table did not
   * issue or that was closed, -EINVAL for one of another kind.
   */
  fd(handle: Handle, kind: Kind): Fd {
    const index = this.indexOf(handle);
    if (index < 0) return -Errno.EBADF as Fd;
    return (this.kinds[index] === kind ? this.fds[index]! : -Errno.EINVAL) as Fd;
  }

  /** The slot index of an open handle, or -1. Accepts any JS number. */
  indexOf(handle: Handle): number {
    if (!Number.isInteger(handle) || handle <= 0 || handle > 0x7fffffff) return -1;
    const index = handle & this.maxIndex;
    const kind = this.kinds[index];
    if (index >= this.next || (kind !== Kind.Listener && kind !== Kind.Conn)) return -1;
    return this.gens[index] === handle >>> this.bits ? index : -1;
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

  fdAt(index: number): Fd {
    return this.fds[index]! as Fd;
  }

  /** Takes an open handle's fd out of the registry, before the caller closes it: a registry
   *  must never hold an fd that may be closed (the pool would close a reused number). */
  unpublish(index: number): void {
    if (this.registry) this.registry[index] = -1;
  }

  /** Frees an open handle's slot (the caller closes the fd). Its generation moves on; an index
   *  whose generations are used up is retired instead of going back to the free list. */
  remove(index: number): void {
    if (this.kinds[index] === Kind.Conn) this.conns--;
    this.fds[index] = -1;
    if (this.registry) this.registry[index] = -1;
    this.watched[index] = 0;
    if (this.gens[index]! >= this.lastGen) {
      this.kinds[index] = Kind.Retired;
      return;
    }
    this.kinds[index] = Kind.Free;
    this.gens[index]!++;
    this.nextFree[index] = -1;
    if (this.freeTail >= 0) this.nextFree[this.freeTail] = index;
    else this.freeHead = index;
    this.freeTail = index;
  }

  /** Open connection handles. */
  get connections(): number {
    return this.conns;
  }

  /** True while the instance is below max-connections with the other instances counted. */
  get belowLimit(): boolean {
    return this.conns + this.others < this.maxConns;
  }

  /** Calls `fn` with the index of every open handle of `kind`. */
  forEach(kind: Kind, fn: (index: number) => void): void {
    for (let i = 1; i < this.next; i++) if (this.kinds[i] === kind) fn(i);
  }

  /** A free index: a fresh one while any is left, else the longest-freed one; -1 if none. */
  private take(): number {
    if (this.next <= this.maxIndex) {
      if (this.next >= this.fds.length) this.grow();
      return this.next++;
    }
    const index = this.freeHead;
    if (index < 0) return -1;
    this.freeHead = this.nextFree[index]!;
    if (this.freeHead < 0) this.freeTail = -1;
    return index;
  }

  private record(index: number, kind: Kind): Handle {
    this.kinds[index] = kind;
    this.watched[index] = 0;
    if (kind === Kind.Conn) this.conns++;
    return ((this.gens[index]! << this.bits) | index) as Handle; // < 2^31: gens[index] <= lastGen
  }

  private grow(): void {
    const size = Math.min(this.fds.length * 2, this.maxIndex + 1);
    this.fds = resized(this.fds, size, -1);
    this.watched = resized(this.watched, size, 0);
    this.interest = resized(this.interest, 3 * size, 0);
    this.kinds = resized(this.kinds, size, 0);
    this.gens = resized(this.gens, size, 0);
    this.nextFree = resized(this.nextFree, size, -1);
  }
}

function resized<T extends Int32Array | Uint8Array | Uint32Array>(
  a: T,
  size: number,
  fill: number,
): T {
  const out = new (a.constructor as new (n: number) => T)(size);
  out.fill(fill);
  out.set(a);
  return out;
}
