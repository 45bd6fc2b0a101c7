// The boundary parameter of a multipart/form-data Content-Type value (RFC 7578 4.1, RFC 2046
// 5.1.1), for the multipart parser (multipart.ts), which builds its delimiter from it.

import { BCHAR, DQUOTE, SEMI, isClass, isOws, isTchar } from "./chars";
import { bytesEqualLower } from "./text";

/** Longest boundary (RFC 2046 5.1.1). */
export const MAX_BOUNDARY: i32 = 70;

/** Writes the boundary parameter of a multipart/form-data Content-Type value [p, p+len) at
 *  `out`; returns its length, or 0 when the type is another or the boundary is missing or
 *  invalid (RFC 2046 5.1.1: 1-70 bchars, not ending in a space). */
export function boundaryOf(p: usize, len: i32, out: usize): i32 {
  const type = "multipart/form-data";
  let i = type.length;
  if (len < i || !bytesEqualLower(p, i, type)) return 0;
  while (i < len) {
    while (i < len && isOws(<u32>load<u8>(p + <usize>i))) i++;
    if (i == len || <u32>load<u8>(p + <usize>i) != SEMI) return 0;
    i++;
    while (i < len && isOws(<u32>load<u8>(p + <usize>i))) i++;
    const name = i;
    while (i < len && isTchar(<u32>load<u8>(p + <usize>i))) i++;
    if (i == len || <u32>load<u8>(p + <usize>i) != 0x3d) return 0;
    const isBoundary = bytesEqualLower(p + <usize>name, i - name, "boundary");
    i++;
    const quoted = i < len && <u32>load<u8>(p + <usize>i) == DQUOTE;
    if (quoted) i++;
    const v = i;
    while (
      i < len &&
      (quoted ? <u32>load<u8>(p + <usize>i) != DQUOTE : isTchar(<u32>load<u8>(p + <usize>i)))
    )
      i++;
    const vlen = i - v;
    if (quoted) {
      if (i == len) return 0;
      i++;
    }
    if (isBoundary) return copyBoundary(p + <usize>v, vlen, out);
  }
  return 0;
}

function copyBoundary(p: usize, len: i32, out: usize): i32 {
  if (len < 1 || len > MAX_BOUNDARY || <u32>load<u8>(p + <usize>len - 1) == 0x20) return 0;
  for (let i = 0; i < len; i++) if (!isClass(<u32>load<u8>(p + <usize>i), BCHAR)) return 0;
  memory.copy(out, p, <usize>len);
  return len;
}
