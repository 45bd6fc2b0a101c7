// Growable byte buffers for the HTTP SDK: a request head kept past the call that parsed it, a
// response's staged head and body, output the connection could not take yet, a body the app
// asked to collect. Memory comes from size-classed blocks (powers of two, 256 B to 16 MiB)
// that are reused forever once allocated, so the steady state allocates nothing and the
// guest's `stub` runtime (which never frees) does not leak. A buffer gives its block back as
// soon as it is emptied, so an idle connection holds none.

import { limit } from "../config";
import { copyBytes } from "../bytes";

const MIN_SHIFT: i32 = 8;
const MAX_SHIFT: i32 = 24;
const CLASSES: i32 = MAX_SHIFT - MIN_SHIFT + 1;

/** The largest buffer: callers keep their own, smaller bounds. */
export const MAX_BUFFER: i32 = 1 << MAX_SHIFT;

/** Each block is preceded by a 16-byte header holding its class; a free block's first word
 *  links it into its class's free list. */
const HEADER: usize = 16;
const freeHeads: usize = memory.data(CLASSES * 8, 8);

/** The host's max-memory-size in pages (0: no cap known). The allocator traps past it, so a
 *  block that would need to grow memory beyond it is refused instead (as the core's pool does):
 *  the request that wanted it fails, the guest keeps serving. */
let maxPages: i32 = 0;

/** Reads the memory cap; called once at start-up (limit() allocates). */
export function buffersInit(): void {
  maxPages = <i32>(limit("max-memory-size", 0) / 65536);
}

function classOf(bytes: i32): i32 {
  let k = MIN_SHIFT;
  while (1 << k < bytes) k++;
  return k - MIN_SHIFT;
}

/** A block of at least `bytes` (<= MAX_BUFFER) bytes, or 0 past the memory cap. */
function take(bytes: i32): usize {
  const k = classOf(bytes);
  const head = freeHeads + ((<usize>k) << 3);
  const free = load<usize>(head);
  if (free != 0) {
    store<usize>(head, load<usize>(free));
    return free;
  }
  const size = HEADER + ((<usize>1) << (<usize>(k + MIN_SHIFT)));
  if (maxPages > 0 && memory.size() + <i32>(size >> 16) + 2 > maxPages) return 0;
  const block = heap.alloc(size) + HEADER;
  store<i32>(block - HEADER, k);
  return block;
}

function give(block: usize): void {
  const head = freeHeads + ((<usize>load<i32>(block - HEADER)) << 3);
  store<usize>(block, load<usize>(head));
  store<usize>(head, block);
}

function capOf(block: usize): i32 {
  return 1 << (load<i32>(block - HEADER) + MIN_SHIFT);
}

/** Bytes [start, end) of a pooled block; empty buffers hold no block. */
@final
export class ByteBuf {
  ptr: usize = 0;
  start: i32 = 0;
  end: i32 = 0;

  get length(): i32 {
    return this.end - this.start;
  }
  get data(): usize {
    return this.ptr + <usize>this.start;
  }

  /** Appends `len` bytes from `src`; false (and nothing appended) past MAX_BUFFER. */
  append(src: usize, len: i32): bool {
    if (len <= 0) return true;
    if (!this.reserve(len)) return false;
    copyBytes(this.ptr + <usize>this.end, src, len); // usually short: copied in wasm
    this.end += len;
    return true;
  }

  /** Makes room for `len` more bytes at `end`; false past MAX_BUFFER or the memory cap. */
  reserve(len: i32): bool {
    const have = this.end - this.start;
    if (<i64>have + <i64>len > <i64>MAX_BUFFER) return false;
    if (this.ptr != 0 && this.end + len <= capOf(this.ptr)) return true;
    if (this.ptr != 0 && have + len <= capOf(this.ptr)) {
      memory.copy(this.ptr, this.ptr + <usize>this.start, <usize>have);
    } else {
      const block = take(have + len);
      if (block == 0) return false;
      if (this.ptr != 0) {
        memory.copy(block, this.ptr + <usize>this.start, <usize>have);
        give(this.ptr);
      }
      this.ptr = block;
    }
    this.start = 0;
    this.end = have;
    return true;
  }

  /** Drops `n` bytes from the front; gives the block back once empty. */
  consume(n: i32): void {
    this.start += n;
    if (this.start >= this.end) this.clear();
  }

  /** Empties the buffer but keeps its block (for a buffer reused at once). */
  reset(): void {
    this.start = 0;
    this.end = 0;
  }

  /** Empties the buffer and gives its block back. */
  clear(): void {
    if (this.ptr != 0) give(this.ptr);
    this.ptr = 0;
    this.start = 0;
    this.end = 0;
  }
}
