// Checks of one header field's value, run by scan.ts at the CR that ends its line, so that an
// error decidable from that line is answered at once instead of when the head ends: a Host
// that is not uri-host [":" port], a Connection that is not a list of tokens, an expectation
// other than 100-continue (417, HTTP/1.1 only), and Transfer-Encoding lists that can no
// longer be valid (an empty list, a malformed coding, parameters on chunked, anything after
// chunked). The rules are framing.ts's, which still decides what needs the whole head.
// Allocates nothing.

import { bytes, equalsLower } from "../bytes";
import { SEMI, isOws } from "./chars";
import { elAt, elEnd, nextElement, tokenEnd } from "./list";
import { validHost } from "./target";

export const enum Field {
  OTHER = 0,
  HOST,
  CODINGS,
  CONNECTION,
  EXPECT,
}

const CHUNKED = bytes("chunked");
const CONTINUE = bytes("100-continue");

/** After valueError() on Transfer-Encoding: chunked has been named (on this line or before). */
export let namedChunked = false;

/** The value of a `kind` field line at [at, end) (untrimmed): 0, or -status (400, 417). */
export function valueError(
  kind: Field,
  p: usize,
  at: i32,
  end: i32,
  http10: bool,
  chunkedBefore: bool,
): i32 {
  while (at < end && isOws(<u32>load<u8>(p + <usize>at))) at++;
  while (end > at && isOws(<u32>load<u8>(p + <usize>end - 1))) end--;
  switch (kind) {
    case Field.HOST:
      return validHost(p, at, end, false) ? 0 : -400;
    case Field.CONNECTION:
      return tokenList(p, at, end) ? 0 : -400;
    // RFC 9110 10.1.1: an HTTP/1.0 request's expectations are ignored.
    case Field.EXPECT:
      return http10 || equalsLower(p + <usize>at, end - at, CONTINUE) ? 0 : -417;
    case Field.CODINGS:
      return codings(p, at, end, chunkedBefore);
    default:
      return 0;
  }
}

/** #token: empty elements are allowed (RFC 9110 5.6.1), others must be tokens. */
function tokenList(p: usize, at: i32, end: i32): bool {
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    if (elEnd != elAt && tokenEnd(p, elAt, elEnd) != elEnd) return false;
  }
  return true;
}

/** 1#transfer-coding on one line, given whether chunked came before: anything after chunked
 *  is an error (chunked twice, or not last: RFC 9112 6.3), whatever follows in the head. */
function codings(p: usize, at: i32, end: i32, chunkedBefore: bool): i32 {
  namedChunked = chunkedBefore;
  let any = false;
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    if (elEnd == elAt) continue;
    any = true;
    if (namedChunked) return -400;
    const t = tokenEnd(p, elAt, elEnd);
    if (t == elAt) return -400;
    let r = t;
    while (r < elEnd && isOws(<u32>load<u8>(p + <usize>r))) r++;
    const params = r < elEnd;
    if (params && <u32>load<u8>(p + <usize>r) != SEMI) return -400;
    if (equalsLower(p + <usize>elAt, t - elAt, CHUNKED)) {
      if (params) return -400;
      namedChunked = true;
    }
  }
  return any ? 0 : -400; // an empty Transfer-Encoding
}
