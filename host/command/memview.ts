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
/** The byte length of the buffer last asked about (byteLengthOf). */
let lengthBuffer: ArrayBuffer | undefined;
let cachedLength = 0;

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

/** `memory.byteLength`, read once per buffer: the getter is a builtin call, and the hot calls
 *  check several ranges each. Safe to keep: a live buffer's length never shrinks (a
 *  memory.grow hands out a new buffer and detaches the old one, which a call never holds
 *  across the guest code that could grow it; a shared buffer only grows, so the kept length
 *  errs on the small side). */
export function byteLengthOf(memory: ArrayBuffer): number {
  if (memory !== lengthBuffer) {
    lengthBuffer = memory;
    cachedLength = memory.byteLength;
  }
  return cachedLength;
}

/** The longest copy done word by word: above it, set() from a subarray is faster. set() costs
 *  a fixed ~50 ns for the subarray it allocates (which, once per message, also feeds the
 *  scavenger); a copy by 4-byte words costs ~0.7 ns a byte (docs/PERFORMANCE.md, "WASI
 *  commands, third round"). */
const SMALL_COPY = 128;

/** Copies `len` bytes of `src` (`srcView` over the same bytes) from `srcAt` to `dst` (`dstView`
 *  likewise) at `dstAt`; both ranges are in bounds. */
export function copyBytes(
  dst: Uint8Array,
  dstView: DataView,
  dstAt: number,
  src: Uint8Array,
  srcView: DataView,
  srcAt: number,
  len: number,
): void {
  if (len > SMALL_COPY) {
    dst.set(src.subarray(srcAt, srcAt + len), dstAt);
    return;
  }
  let i = 0;
  for (; i + 4 <= len; i += 4)
    dstView.setUint32(dstAt + i, srcView.getUint32(srcAt + i, true), true);
  for (; i < len; i++) dst[dstAt + i] = src[srcAt + i]!;
}

/** The guest's current memory buffer (empty before it is instantiated). The getters on
 *  Instance.exports and Memory.buffer are runtime calls, so the buffer is kept and re-read only
 *  once memory.grow has detached it (a view's length, which the JIT inlines unlike byteLength,
 *  becomes 0); a shared memory's is never detached, so it is re-read each time. */
export function memoryBuffer(instance: () => WebAssembly.Instance | undefined): () => ArrayBuffer {
  let buffer = new ArrayBuffer(0);
  let probe = new Uint8Array(buffer);
  let shared = false; // asked once per buffer, not per call
  return () => {
    if (shared || probe.length === 0) {
      const memory = instance()?.exports.memory as WebAssembly.Memory | undefined;
      buffer = memory?.buffer ?? buffer;
      shared = buffer instanceof SharedArrayBuffer;
      if (!shared) probe = new Uint8Array(buffer);
    }
    return buffer;
  };
}
