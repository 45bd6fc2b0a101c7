/**
 * Small data structures and argument checks shared by the simulated kernel:
 *  - ByteQueue: a FIFO of bytes kept as a list of chunks (no copying on push);
 *  - Queue: a FIFO of values with O(1) amortised shift;
 *  - FdTable: Linux-style descriptor numbers, lowest free first, starting at 3;
 *  - predicates for hostcall arguments (integers, memory buffers, ranges).
 */

/** A FIFO of values. Invariant: live items are `items[head..]`. */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}

/**
 * A FIFO of bytes. Invariant: `length` is the sum of the live chunk bytes, the first live chunk
 * starts at `offset`, and no live chunk is empty.
 */
export class ByteQueue {
  private readonly chunks = new Queue<Uint8Array>();
  private first: Uint8Array | undefined;
  private offset = 0;
  length = 0;

  /** Appends `bytes`; the queue keeps the reference, so pass a copy you will not reuse. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.first === undefined) this.first = bytes;
    else this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** Moves the first `n` bytes (n <= length) into `dst[0..n)`. */
  readInto(dst: Uint8Array, n: number): void {
    let done = 0;
    while (done < n && this.first !== undefined) {
      const take = Math.min(n - done, this.first.length - this.offset);
      dst.set(this.first.subarray(this.offset, this.offset + take), done);
      done += take;
      this.offset += take;
      if (this.offset === this.first.length) {
        this.first = this.chunks.shift();
        this.offset = 0;
      }
    }
    this.length -= done;
  }

  /** Removes and returns everything. */
  take(): Uint8Array {
    const out = new Uint8Array(this.length);
    this.readInto(out, this.length);
    return out;
  }

  clear(): void {
    this.chunks.drain();
    this.first = undefined;
    this.offset = 0;
    this.length = 0;
  }
}

/**
 * Descriptor numbers like Linux: the lowest free number, starting at 3 (0-2 are stdio).
 * Invariant: the free numbers are exactly `freed` (all < `next`) plus every number >= `next`;
 * `freed` is a binary min-heap.
 */
export class FdTable<T> {
  private readonly entries = new Map<number, T>();
  private readonly freed: number[] = [];
  private next = 3;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(fd: number): T | undefined {
    return this.entries.get(fd);
  }

  /** The new descriptor, or -1 when `limit` descriptors are already open (EMFILE). */
  alloc(entry: T): number {
    if (this.entries.size >= this.limit) return -1;
    const fd = this.freed.length > 0 ? heapPop(this.freed) : this.next++;
    this.entries.set(fd, entry);
    return fd;
  }

  free(fd: number): void {
    if (this.entries.delete(fd)) heapPush(this.freed, fd);
  }

  full(): boolean {
    return this.entries.size >= this.limit;
  }
}

// A binary min-heap in a plain array. Its indices stay below heap.length, so `at` never reads a
// hole: the `!` assertions below are that invariant, not a guess.
function at(heap: number[], i: number): number {
  return heap[i]!;
}

function heapPush(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (at(heap, parent) <= value) break;
    heap[i] = at(heap, parent);
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number {
  const top = at(heap, 0);
  const last = heap.pop() as number;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const c = l + 1 < heap.length && at(heap, l + 1) < at(heap, l) ? l + 1 : l;
    if (at(heap, c) >= last) break;
    heap[i] = at(heap, c);
    i = c;
  }
  heap[i] = last;
  return top;
}

/** A non-negative safe integer (pointers, lengths, counts). */
export function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/** An integer that fits 32 bits, signed or unsigned (masks, tokens): use it as `x >>> 0`. */
export function isWord(x: unknown): x is number {
  return Number.isInteger(x) && (x as number) >= -0x80000000 && (x as number) <= 0xffffffff;
}

/** A guest memory: an ArrayBuffer or, for shared wasm memories, a SharedArrayBuffer. */
export function isMemory(x: unknown): x is ArrayBuffer {
  if (x instanceof ArrayBuffer) return true;
  return typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer;
}

/** Whether `[ptr, ptr + len)` lies inside `memory` (a detached buffer has byteLength 0). */
export function inBounds(memory: ArrayBuffer, ptr: number, len: number): boolean {
  return ptr + len <= memory.byteLength;
}
