// Query strings (application/x-www-form-urlencoded, as browsers send them): finding a
// parameter without allocating, and decoding its value (which allocates).

import { HEX, hexValue, isClass } from "./chars";
import { bytesEqual } from "./text";

// Where findParam() found the value: [valueAt, valueAt + valueLen) of the query.
export let valueAt: i32 = 0;
export let valueLen: i32 = 0;

/** Looks for `name` (compared as sent, not decoded) among the `&`-separated pairs of the query
 *  at [p, p+len); true with the value's place in valueAt/valueLen (empty for "name" alone). */
export function findParam(p: usize, len: i32, name: string): bool {
  let i = 0;
  while (i <= len) {
    let end = i;
    while (end < len && load<u8>(p + <usize>end) != 0x26) end++;
    let eq = i;
    while (eq < end && load<u8>(p + <usize>eq) != 0x3d) eq++;
    if (bytesEqual(p + <usize>i, eq - i, name)) {
      valueAt = eq < end ? eq + 1 : end;
      valueLen = end - valueAt;
      return true;
    }
    i = end + 1;
  }
  return false;
}

/** Decodes %XX escapes and "+" (a space) in [p, p+len) into a string, reading the bytes as
 *  UTF-8. A malformed escape is kept as it is. Allocates. */
export function decodeComponent(p: usize, len: i32): string {
  const buf = new ArrayBuffer(len);
  const out = changetype<usize>(buf);
  let n = 0;
  for (let i = 0; i < len; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c == 0x2b) c = 0x20;
    else if (
      c == 0x25 &&
      i + 2 < len &&
      isClass(<u32>load<u8>(p + <usize>i + 1), HEX) &&
      isClass(<u32>load<u8>(p + <usize>i + 2), HEX)
    ) {
      c =
        (hexValue(<u32>load<u8>(p + <usize>i + 1)) << 4) |
        hexValue(<u32>load<u8>(p + <usize>i + 2));
      i += 2;
    }
    store<u8>(out + <usize>n, <u8>c);
    n++;
  }
  return String.UTF8.decodeUnsafe(out, <usize>n);
}
