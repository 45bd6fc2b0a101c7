// Checks of one header field's value, run by scan.ts at the CR that ends its line, so that an
// error decidable from that line is answered at once instead of when the head ends: a Host
// that is not uri-host [":" port], a Connection that is not a list of tokens, an expectation
// other than 100-continue (417, HTTP/1.1 only), and Transfer-Encoding lists that can no
// longer be valid (an empty list, a malformed coding, parameters on chunked, anything after
// chunked). The same walk records what framing.ts needs from the value (Scan.seen's bits:
// close, keep-alive, 100-continue, chunked, another coding), so no value is read twice.
// Allocates nothing.

import { bytes, copyBytes, equalsLower, sameBytes } from "../bytes";
import { CR, SEMI, isOws } from "./chars";
import { elAt, elEnd, nextElement, tokenEnd } from "./list";
import {
  Field,
  SEEN_CHUNKED,
  SEEN_CLOSE,
  SEEN_CONTINUE,
  SEEN_KEEP_ALIVE,
  SEEN_OTHER_CODING,
} from "./scan-state";
import { validHost } from "./target";
import { helloRules } from "./limits";

const CHUNKED = bytes("chunked");
const CONTINUE = bytes("100-continue");
const CLOSE = bytes("close");
const KEEP_ALIVE = bytes("keep-alive");

/** After valueError(): the `seen` bits it was given, with what this value added. */
export let seenAfter: i32 = 0;

/** The value of a `kind` field line at [at, end) (untrimmed), given the Scan.seen bits so far:
 *  0, or -status (400, 417). Leaves the bits with this value's facts in seenAfter. A Host equal
 *  to the last valid one (isLastHost) is accepted by the caller without this call. */
export function valueError(kind: Field, p: usize, at: i32, end: i32, http10: bool, seen: i32): i32 {
  seenAfter = seen;
  const rawAt = at;
  const rawEnd = end;
  while (at < end && isOws(<u32>load<u8>(p + <usize>at))) at++;
  while (end > at && isOws(<u32>load<u8>(p + <usize>end - 1))) end--;
  switch (kind) {
    case Field.HOST:
      return hostValid(p, rawAt, rawEnd, at, end) ? 0 : -400;
    case Field.CONNECTION:
      if (helloRules) return lastConnectionOption(p, at, end);
      return connectionOptions(p, at, end) ? 0 : -400;
    case Field.EXPECT:
      return expectation(p, at, end, http10);
    case Field.CODINGS:
      return codings(p, at, end);
    default:
      return 0;
  }
}

// The last Host value found valid, as sent (untrimmed). A client's next request names the same
// host, and so do most clients of a server: an equal value is compared, not trimmed and walked
// again (validity depends on the bytes alone).
const LAST_HOST_MAX = 64;
const LAST_HOST: usize = memory.data(LAST_HOST_MAX, 8);
let lastHostLen: i32 = -1;

/** True when the untrimmed Host value at [at, end) is the last one found valid. */
export function isLastHost(p: usize, at: i32, end: i32): bool {
  const len = end - at;
  return len == lastHostLen && sameBytes(p + <usize>at, LAST_HOST, len);
}

/** The offset of the CR ending a Host value at `at` (its first byte after the colon) that is
 *  the last one found valid, when all of it and its CR are before `end`; else -1. Its bytes are
 *  then known to be field-value bytes and a valid host, so the scanner passes them whole. */
export function lastHostEnd(p: usize, at: i32, end: i32): i32 {
  const len = lastHostLen;
  if (len < 0 || end - at <= len) return -1;
  const cr = at + len;
  if (<u32>load<u8>(p + <usize>cr) != CR) return -1;
  return isLastHost(p, at, cr) ? cr : -1;
}

/** validHost() for a Host value at [at, end) (trimmed from [rawAt, rawEnd)), remembering the
 *  last valid one. Its one caller (scan.ts valueEnd) has already found it is not the last. */
function hostValid(p: usize, rawAt: i32, rawEnd: i32, at: i32, end: i32): bool {
  if (!validHost(p, at, end, false)) return false;
  const len = rawEnd - rawAt;
  if (len <= LAST_HOST_MAX) {
    copyBytes(LAST_HOST, p + <usize>rawAt, len);
    lastHostLen = len;
  }
  return true;
}

/** RFC 9110 10.1.1: an HTTP/1.0 request's expectations are ignored; in HTTP/1.1 the only one
 *  known is 100-continue, anything else is 417. */
function expectation(p: usize, at: i32, end: i32, http10: bool): i32 {
  if (http10) return 0;
  if (!equalsLower(p + <usize>at, end - at, CONTINUE)) return -417;
  seenAfter |= SEEN_CONTINUE;
  return 0;
}

/** Connection: #token, empty elements allowed (RFC 9110 5.6.1); "close" and "keep-alive"
 *  are recorded (framing.ts: close wins), other options are ignored. */
function connectionOptions(p: usize, at: i32, end: i32): bool {
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    const len = elEnd - elAt;
    if (len == 0) continue;
    if (tokenEnd(p, elAt, elEnd) != elEnd) return false;
    if (equalsLower(p + <usize>elAt, len, CLOSE)) seenAfter |= SEEN_CLOSE;
    else if (equalsLower(p + <usize>elAt, len, KEEP_ALIVE)) seenAfter |= SEEN_KEEP_ALIVE;
  }
  return true;
}

/** Connection under hello's rules: never refused; a value naming "close" closes, otherwise one
 *  naming "keep-alive" keeps the connection, and the last field that names either decides
 *  (hello's rules: no list syntax checked, unlike connectionOptions). */
function lastConnectionOption(p: usize, at: i32, end: i32): i32 {
  let close = false;
  let keepAlive = false;
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    const len = elEnd - elAt;
    if (equalsLower(p + <usize>elAt, len, CLOSE)) close = true;
    else if (equalsLower(p + <usize>elAt, len, KEEP_ALIVE)) keepAlive = true;
  }
  if (close) seenAfter = (seenAfter & ~SEEN_KEEP_ALIVE) | SEEN_CLOSE;
  else if (keepAlive) seenAfter = (seenAfter & ~SEEN_CLOSE) | SEEN_KEEP_ALIVE;
  return 0;
}

/** 1#transfer-coding on one line, after the lines before it (seenAfter): anything after
 *  chunked is an error (chunked twice, or not last: RFC 9112 6.3), whatever follows in the
 *  head. Another coding is recorded: framing.ts answers 501 once chunked ends the list. */
function codings(p: usize, at: i32, end: i32): i32 {
  let any = false;
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    if (elEnd == elAt) continue;
    any = true;
    if ((seenAfter & SEEN_CHUNKED) != 0) return -400;
    const t = tokenEnd(p, elAt, elEnd);
    if (t == elAt) return -400;
    let r = t;
    while (r < elEnd && isOws(<u32>load<u8>(p + <usize>r))) r++;
    const params = r < elEnd;
    if (params && <u32>load<u8>(p + <usize>r) != SEMI) return -400;
    if (equalsLower(p + <usize>elAt, t - elAt, CHUNKED)) {
      if (params) return -400;
      seenAfter |= SEEN_CHUNKED;
    } else seenAfter |= SEEN_OTHER_CODING;
  }
  return any ? 0 : -400; // an empty Transfer-Encoding
}
