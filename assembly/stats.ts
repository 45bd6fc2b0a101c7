// Counters the host reads straight from linear memory (docs/ABI.md, wl_stats_ptr).
//
//   0 accepted   8 closed   16 open   24 requests   32 bytes_in   40 bytes_out
//  48 accept_errors   56 protocol_errors   64 buffers_in_use   72 timeouts
//                                                      (each a little-endian u64)

export const STATS: usize = memory.data(80, 8);

export const ACCEPTED: usize = 0;
export const CLOSED: usize = 8;
export const OPEN: usize = 16;
export const REQUESTS: usize = 24;
export const BYTES_IN: usize = 32;
export const BYTES_OUT: usize = 40;
export const ACCEPT_ERRORS: usize = 48;
export const PROTOCOL_ERRORS: usize = 56;
export const BUFFERS_IN_USE: usize = 64;
export const TIMEOUTS: usize = 72;

/** Adds `n` to the counter at `offset`. */
// @ts-ignore: decorator
@inline export function count(offset: usize, n: u64 = 1): void {
  store<u64>(STATS + offset, load<u64>(STATS + offset) + n);
}

/** Subtracts 1 from the counter at `offset` (only `OPEN` and `BUFFERS_IN_USE` go down). */
// @ts-ignore: decorator
@inline export function uncount(offset: usize): void {
  store<u64>(STATS + offset, load<u64>(STATS + offset) - 1);
}

/** The current value of the counter at `offset`. */
// @ts-ignore: decorator
@inline export function counter(offset: usize): u64 {
  return load<u64>(STATS + offset);
}
