// I/O buffers. Following uSockets, one shared receive buffer serves every connection of the
// loop, and an idle connection owns no buffer at all: a connection takes a pooled buffer only
// while it holds unparsed input or unsent output, and gives it back as soon as that is empty.
// Buffers are allocated the first time the pool runs dry and reused forever after, so the
// steady state allocates nothing.

/** Size of the shared receive buffer and of every pooled buffer. 64 KiB is the largest
 *  single read a loopback socket usually has ready; a smaller one costs extra recv calls. */
export const BUF_SIZE: i32 = 65536; // host/abi.ts MAX_CARRY_BYTES

/** Most buffers the pool will ever hold (MAX_BUFFERS * BUF_SIZE = 128 MiB of guest memory);
 *  past that, a connection that needs a buffer is closed rather than growing memory without bound. */
export const MAX_BUFFERS: i32 = 2048;

/** The shared receive area: a wl_dispatch's recvs into it are packed one after the other (each
 *  given up to BUF_SIZE bytes, while that much is free), and input left in it is moved to a
 *  pooled buffer before the dispatch returns: valid only until the next dispatch. */
export const RECV_AREA_SIZE: i32 = 2 * BUF_SIZE;
export const RECV_AREA: usize = memory.data(RECV_AREA_SIZE, 16);

import { limit } from "./config";
import { count, uncount, BUFFERS_IN_USE } from "./stats";

let freeList: usize = 0; // stack of free buffer addresses (MAX_BUFFERS usize slots)
let freeCount: i32 = 0;
let allocated: i32 = 0;
let maxPages: i32 = 0; // the host's max-memory-size in pages; 0 = no cap known

/** Pages a new pooled buffer may need: 64 KiB plus the allocator's header can straddle two. */
const PAGES_PER_BUFFER: i32 = 2;

/** Prepares the pool; called once from wl_init. */
export function poolInit(): void {
  freeList = heap.alloc((<usize>MAX_BUFFERS) << alignof<usize>());
  maxPages = <i32>(limit("max-memory-size", 0) / 65536);
}

/** A buffer of BUF_SIZE bytes, or 0 when the pool is at MAX_BUFFERS and all are in use. */
export function acquire(): usize {
  if (freeCount > 0) {
    freeCount--;
    count(BUFFERS_IN_USE);
    return load<usize>(freeList + ((<usize>freeCount) << alignof<usize>()));
  }
  if (allocated == MAX_BUFFERS) return 0;
  // Past the memory cap the allocator would trap; refusing instead lets the core close the one
  // connection that needed a buffer and keep serving the others.
  if (maxPages > 0 && memory.size() + PAGES_PER_BUFFER > maxPages) return 0;
  allocated++;
  count(BUFFERS_IN_USE);
  return heap.alloc(<usize>BUF_SIZE);
}

/** Returns a buffer taken with acquire(). */
export function release(buf: usize): void {
  uncount(BUFFERS_IN_USE);
  store<usize>(freeList + ((<usize>freeCount) << alignof<usize>()), buf);
  freeCount++;
}
