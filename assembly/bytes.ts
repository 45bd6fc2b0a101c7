// Protocol constants as UTF-8 bytes. AssemblyScript string literals are UTF-16, so each
// constant is encoded once, at start-up, into a buffer that lives for the whole instance.

/** A byte string: address and length of its UTF-8 encoding. */
@final
export class Bytes {
  readonly ptr: usize;
  readonly len: i32;
  // Holding the buffer keeps it alive under a collecting runtime; ptr points into it.
  constructor(private readonly buf: ArrayBuffer) {
    this.ptr = changetype<usize>(buf);
    this.len = buf.byteLength;
  }
}

/** Encodes `s` (ASCII or UTF-8) once; call only at start-up, never per request. */
export function bytes(s: string): Bytes {
  return new Bytes(String.UTF8.encode(s));
}

/** True when the `len` bytes at `ptr` equal `b`, comparing ASCII letters case-insensitively.
 *  `b` must be lower case. */
export function equalsLower(ptr: usize, len: i32, b: Bytes): bool {
  if (len != b.len) return false;
  for (let i = 0; i < len; i++) {
    let ch = load<u8>(ptr + <usize>i);
    if (ch >= 0x41 && ch <= 0x5a) ch |= 0x20;
    if (ch != load<u8>(b.ptr + <usize>i)) return false;
  }
  return true;
}

/** Copies `n` bytes from src to dst (not overlapping); returns n. Runs up to COPY_IN_WASM bytes
 *  are copied here: memory.copy leaves wasm for a runtime call (V8's memory_copy_wrapper), which
 *  costs more than a few loads and stores. From 8 bytes on, the tail is one 8-byte copy that
 *  overlaps the last whole one, not a loop of single bytes; from 32 on, 32 bytes a turn (each
 *  turn of a wasm loop also checks V8's stack guard), the tail 32 bytes overlapping. Inlined:
 *  the usual copy is a response or a head of 100-200 bytes, where the call's frame, stack
 *  check and reloads were a fifth of the copy's instructions (docs/PERFORMANCE.md). */
// @ts-ignore: decorator
@inline export function copyBytes(dst: usize, src: usize, n: i32): i32 {
  if (n > COPY_IN_WASM) {
    memory.copy(dst, src, <usize>n);
    return n;
  }
  if (n >= 32) {
    const last = <usize>(n - 32);
    for (let i: usize = 0; i < last; i += 32) copy32(dst + i, src + i);
    copy32(dst + last, src + last);
    return n;
  }
  if (n >= 8) {
    const last = <usize>(n - 8);
    for (let i: usize = 0; i < last; i += 8) store<u64>(dst + i, load<u64>(src + i));
    store<u64>(dst + last, load<u64>(src + last));
    return n;
  }
  for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
  return n;
}

// @ts-ignore: decorator
@inline function copy32(dst: usize, src: usize): void {
  const a = load<u64>(src);
  const b = load<u64>(src, 8);
  const c = load<u64>(src, 16);
  const d = load<u64>(src, 24);
  store<u64>(dst, a);
  store<u64>(dst, b, 8);
  store<u64>(dst, c, 16);
  store<u64>(dst, d, 24);
}

/** True when the `n` bytes at a and b are the same; 8 bytes per compare (the tail as one 8-byte
 *  compare overlapping the last whole one), without leaving wasm. */
export function sameBytes(a: usize, b: usize, n: i32): bool {
  if (n < 8) {
    for (let i = 0; i < n; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
    return true;
  }
  const last = <usize>(n - 8);
  for (let i: usize = 0; i < last; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  return load<u64>(a + last) == load<u64>(b + last);
}

/** The longest run copyBytes copies itself: a response head, a short message. */
const COPY_IN_WASM: i32 = 256;

/** True when the `len` bytes at `ptr` equal `b` exactly. */
export function equals(ptr: usize, len: i32, b: Bytes): bool {
  return len == b.len && memory.compare(ptr, b.ptr, <usize>len) == 0;
}
