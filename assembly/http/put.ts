// Writing ASCII, decimal and hex into memory: the pieces of status lines, framing headers and
// chunk sizes. Allocates nothing.

/** Writes the characters of `s` (each below 0x100) at dst; returns the bytes written. */
export function putAscii(dst: usize, s: string): i32 {
  const n = s.length;
  for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>s.charCodeAt(i));
  return n;
}

/** The length of `s` when all its characters are ASCII (so one UTF-8 byte each), else -1.
 *  Four UTF-16 units are checked per load. */
export function asciiLength(s: string): i32 {
  const p = changetype<usize>(s);
  const n = s.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    if ((load<u64>(p + ((<usize>i) << 1)) & 0xff80ff80ff80ff80) != 0) return -1;
  }
  for (; i < n; i++) if (load<u16>(p + ((<usize>i) << 1)) >= 0x80) return -1;
  return n;
}

/** Writes `s`, which asciiLength() has found all ASCII, at dst: its UTF-8, one byte per
 *  character, four characters per store. Returns the bytes written. */
export function putAsciiString(dst: usize, s: string): i32 {
  const p = changetype<usize>(s);
  const n = s.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = load<u64>(p + ((<usize>i) << 1));
    const packed =
      (v & 0xff) | ((v >> 8) & 0xff00) | ((v >> 16) & 0xff0000) | ((v >> 24) & 0xff000000);
    store<u32>(dst + <usize>i, <u32>packed);
  }
  for (; i < n; i++) store<u8>(dst + <usize>i, <u8>load<u16>(p + ((<usize>i) << 1)));
  return n;
}

/** Writes `v` in decimal at dst; returns the digits written (1 to 20). */
export function putDecimal(dst: usize, v: u64): i32 {
  if (v <= <u64>u32.MAX_VALUE) return putDecimal32(dst, <u32>v);
  let n = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(dst + <usize>i, <u8>(0x30 + <u32>(v % 10)));
    v /= 10;
  }
  return n;
}

/** putDecimal for a value that fits 32 bits (a body length, a status): 32-bit division, which
 *  costs a fraction of the 64-bit one. */
function putDecimal32(dst: usize, v: u32): i32 {
  let n = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(dst + <usize>i, <u8>(0x30 + (v % 10)));
    v /= 10;
  }
  return n;
}

/** Writes `v` in lower-case hex at dst; returns the digits written (1 to 16). */
export function putHex(dst: usize, v: u64): i32 {
  let n = 1;
  for (let t = v; t >= 16; t >>= 4) n++;
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(dst + <usize>i, hexDigit(<u32>(v & 15)));
    v >>= 4;
  }
  return n;
}

/** Writes `len` bytes from src as lower-case hex (2 * len characters) at dst. */
export function putHexBytes(dst: usize, src: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    const b = <u32>load<u8>(src + <usize>i);
    store<u8>(dst + <usize>(i << 1), hexDigit(b >> 4));
    store<u8>(dst + <usize>(i << 1) + 1, hexDigit(b & 15));
  }
}

// @ts-ignore: decorator
@inline function hexDigit(d: u32): u8 {
  return <u8>(d < 10 ? 0x30 + d : 0x57 + d);
}
