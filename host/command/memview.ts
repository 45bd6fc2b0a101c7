/**
 * Views of a command's linear memory, made once per memory buffer instead of once per call:
 * the hot WASI calls (poll_oneoff, sock_recv, sock_send) read and write the guest's memory on
 * every wake-up, and a `new DataView` per call was a measurable share of their cost
 * (docs/PERFORMANCE.md, "WASI commands"). A memory.grow detaches the old buffer and hands out a
 * new one, so the cache is keyed by the buffer itself: a stale view is never returned.
 */

let cachedBuffer: ArrayBuffer | undefined;
let cachedView = new DataView(new ArrayBuffer(0));
let cachedBytes = new Uint8Array(0);

function refresh(memory: ArrayBuffer): void {
  cachedBuffer = memory;
  cachedView = new DataView(memory);
  cachedBytes = new Uint8Array(memory);
}

/** A DataView over all of `memory`. */
export function viewOf(memory: ArrayBuffer): DataView {
  if (memory !== cachedBuffer) refresh(memory);
  return cachedView;
}

/** A Uint8Array over all of `memory`. */
export function bytesOf(memory: ArrayBuffer): Uint8Array {
  if (memory !== cachedBuffer) refresh(memory);
  return cachedBytes;
}

/** The longest copy done byte by byte: above it, set() from a subarray is faster (a 64-byte
 *  copy by loop took 220-240 ns, by set() 60-100 ns, on the bench machine). */
const SMALL_COPY = 16;

/** Copies `len` bytes of `src` from `srcAt` to `dst` at `dstAt` (the ranges are in bounds). */
export function copyBytes(
  dst: Uint8Array,
  dstAt: number,
  src: Uint8Array,
  srcAt: number,
  len: number,
): void {
  if (len > SMALL_COPY) {
    dst.set(src.subarray(srcAt, srcAt + len), dstAt);
    return;
  }
  for (let i = 0; i < len; i++) dst[dstAt + i] = src[srcAt + i]!;
}
