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

/** True when the `len` bytes at `ptr` equal `b` exactly. */
export function equals(ptr: usize, len: i32, b: Bytes): bool {
  return len == b.len && memory.compare(ptr, b.ptr, <usize>len) == 0;
}
