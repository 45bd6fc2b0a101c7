// A multipart part's header block (RFC 7578 4.2, RFC 2183): field lines like a request's, of
// which the SDK reads Content-Disposition's name and filename parameters and Content-Type.

import { CR, DQUOTE, BACKSLASH, LF, SEMI, VALUE, isClass, isOws, isTchar } from "./chars";
import { bytesEqualLower } from "./text";

/** Where a part's name, filename and content type are (-1: absent), in its header block. */
@final
export class PartHeaders {
  base: usize = 0;
  nameAt: i32 = -1;
  nameLen: i32 = 0;
  fileAt: i32 = -1;
  fileLen: i32 = 0;
  typeAt: i32 = -1;
  typeLen: i32 = 0;

  get hasName(): bool {
    return this.nameAt >= 0;
  }
  get hasFilename(): bool {
    return this.fileAt >= 0;
  }
  get namePtr(): usize {
    return this.base + <usize>max(0, this.nameAt);
  }
  get filenamePtr(): usize {
    return this.base + <usize>max(0, this.fileAt);
  }
  get typePtr(): usize {
    return this.base + <usize>max(0, this.typeAt);
  }
}

/** Reads the header block [p, p+len), which ends with its empty line. False when a line is
 *  malformed. */
export function parseHeaderBlock(h: PartHeaders, p: usize, len: i32): bool {
  h.base = p;
  h.nameAt = -1;
  h.fileAt = -1;
  h.typeAt = -1;
  let at = 0;
  while (at < len - 2) {
    let colon = at;
    while (colon < len && isTchar(<u32>load<u8>(p + <usize>colon))) colon++;
    if (colon == at || colon == len || <u32>load<u8>(p + <usize>colon) != 0x3a) return false;
    let eol = colon + 1;
    while (eol < len && isClass(<u32>load<u8>(p + <usize>eol), VALUE)) eol++;
    if (
      eol + 1 >= len ||
      <u32>load<u8>(p + <usize>eol) != CR ||
      <u32>load<u8>(p + <usize>eol + 1) != LF
    )
      return false;
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isOws(<u32>load<u8>(p + <usize>vs))) vs++;
    while (ve > vs && isOws(<u32>load<u8>(p + <usize>ve - 1))) ve--;
    if (bytesEqualLower(p + <usize>at, colon - at, "content-disposition")) {
      if (!disposition(h, p, vs, ve)) return false;
    } else if (bytesEqualLower(p + <usize>at, colon - at, "content-type")) {
      h.typeAt = vs;
      h.typeLen = ve - vs;
    }
    at = eol + 2;
  }
  return true;
}

/** disposition-type *( ";" parameter ): records name= and filename= (token or quoted-string;
 *  a quoted value is given without its quotes, escapes left as they are). */
function disposition(h: PartHeaders, p: usize, i: i32, end: i32): bool {
  while (i < end && isTchar(<u32>load<u8>(p + <usize>i))) i++;
  while (i < end) {
    while (i < end && isOws(<u32>load<u8>(p + <usize>i))) i++;
    if (i == end) break;
    if (<u32>load<u8>(p + <usize>i) != SEMI) return false;
    i++;
    while (i < end && isOws(<u32>load<u8>(p + <usize>i))) i++;
    const name = i;
    while (i < end && isTchar(<u32>load<u8>(p + <usize>i))) i++;
    const nameLen = i - name;
    while (i < end && isOws(<u32>load<u8>(p + <usize>i))) i++;
    if (nameLen == 0 || i == end || <u32>load<u8>(p + <usize>i) != 0x3d) return false;
    i++;
    while (i < end && isOws(<u32>load<u8>(p + <usize>i))) i++;
    let v = i;
    if (i < end && <u32>load<u8>(p + <usize>i) == DQUOTE) {
      i++;
      v = i;
      while (i < end && <u32>load<u8>(p + <usize>i) != DQUOTE)
        i += <u32>load<u8>(p + <usize>i) == BACKSLASH ? 2 : 1;
      if (i >= end) return false;
      record(h, p + <usize>name, nameLen, v, i - v);
      i++;
    } else {
      while (i < end && isTchar(<u32>load<u8>(p + <usize>i))) i++;
      record(h, p + <usize>name, nameLen, v, i - v);
    }
  }
  return true;
}

function record(h: PartHeaders, name: usize, nameLen: i32, at: i32, len: i32): void {
  if (bytesEqualLower(name, nameLen, "name")) {
    h.nameAt = at;
    h.nameLen = len;
  } else if (bytesEqualLower(name, nameLen, "filename")) {
    h.fileAt = at;
    h.fileLen = len;
  }
}
