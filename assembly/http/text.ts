// Bytes and strings. Protocol bytes stay bytes; these helpers compare them with string
// literals without allocating, and make strings only when an app asks for one.

import { lower } from "./chars";

/** True when the `len` bytes at p are the characters of `s` (each below 0x100), exactly. */
export function bytesEqual(p: usize, len: i32, s: string): bool {
  if (len != s.length) return false;
  const chars = changetype<usize>(s); // UTF-16 code units; i < s.length, so no bounds check
  for (let i = 0; i < len; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(chars + ((<usize>i) << 1))) return false;
  }
  return true;
}

/** Like bytesEqual, ignoring ASCII case on both sides. */
export function bytesEqualLower(p: usize, len: i32, s: string): bool {
  if (len != s.length) return false;
  for (let i = 0; i < len; i++) {
    if (lower(<u32>load<u8>(p + <usize>i)) != lower(<u32>s.charCodeAt(i))) return false;
  }
  return true;
}

/** True when strings `a` and `b` are equal ignoring ASCII case. Allocates nothing. */
export function sameLower(a: string, b: string): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (lower(<u32>a.charCodeAt(i)) != lower(<u32>b.charCodeAt(i))) return false;
  }
  return true;
}

/** True when `needle` (lower case) occurs in `hay`, ignoring ASCII case. Allocates nothing. */
export function containsLower(hay: string, needle: string): bool {
  const n = needle.length;
  for (let i = 0; i + n <= hay.length; i++) {
    let j = 0;
    while (j < n && lower(<u32>hay.charCodeAt(i + j)) == <u32>needle.charCodeAt(j)) j++;
    if (j == n) return true;
  }
  return false;
}

/** A new string with one character per byte (ISO-8859-1): lossless for any bytes, and the
 *  same as ASCII for the bytes of a method, target or field name. Allocates. */
export function latin1(p: usize, len: i32): string {
  if (len <= 0) return "";
  const s = changetype<string>(__new((<usize>len) << 1, idof<string>()));
  const out = changetype<usize>(s);
  for (let i = 0; i < len; i++) store<u16>(out + ((<usize>i) << 1), load<u8>(p + <usize>i));
  return s;
}

/** A new string from UTF-8 bytes (invalid sequences become U+FFFD). Allocates. */
export function utf8(p: usize, len: i32): string {
  return len <= 0 ? "" : String.UTF8.decodeUnsafe(p, <usize>len);
}

/** A view of bytes in memory, valid only for the duration of the callback that received it. */
@final
export class Slice {
  ptr: usize = 0;
  length: i32 = 0;

  /** Byte `i` (0 <= i < length). */
  at(i: i32): u8 {
    return load<u8>(this.ptr + <usize>i);
  }
  /** The bytes decoded as UTF-8. Allocates. */
  toString(): string {
    return utf8(this.ptr, this.length);
  }
  /** The bytes one character each (ISO-8859-1). Allocates. */
  latin1(): string {
    return latin1(this.ptr, this.length);
  }
  /** True when the bytes are exactly the characters of `s`. */
  equals(s: string): bool {
    return bytesEqual(this.ptr, this.length, s);
  }
  /** A copy of the bytes. Allocates. */
  toBuffer(): ArrayBuffer {
    const b = new ArrayBuffer(this.length);
    memory.copy(changetype<usize>(b), this.ptr, <usize>this.length);
    return b;
  }
}
