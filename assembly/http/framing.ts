// What a complete head means (RFC 9112 6, 9.3; RFC 9110 7.2, 10.1.1): the version, the
// target's form, how the body is framed, whether the connection stays open, and whether the
// client waits for "100 Continue". Everything that could let two parsers disagree about where
// a request ends is refused (request smuggling): Content-Length with Transfer-Encoding, a
// repeated or non-numeric Content-Length, chunked not last or twice, Transfer-Encoding in
// HTTP/1.0. Allocates nothing.

import { bytes, equals, equalsLower } from "../bytes";
import { SEMI, isOws, isDigit } from "./chars";
import { fieldNameAt, fieldNameLen, fieldValueAt, fieldValueLen } from "./fields";
import { maxBodyBytes } from "./limits";
import { Scan } from "./scan";
import { elAt, elEnd, nextElement, tokenEnd } from "./list";
import { parseTarget, Target } from "./target";

export const enum Body {
  NONE = 0,
  LENGTH,
  CHUNKED,
}

/** A request's framing and connection facts, decided once its head is complete. */
@final
export class Framing {
  body: Body = Body.NONE;
  length: i64 = 0; // Body.LENGTH: the declared length
  keepAlive: bool = true;
  expectContinue: bool = false;
  http10: bool = false;
  head: bool = false; // a HEAD request: its response has no body
  connect: bool = false; // a CONNECT request: no tunnels here, the connection closes after
  target: Target = new Target();
}

/** Content-Length digits beyond this many are "too large" (413), not malformed: 10^15 bytes
 *  is past any max-body-bytes and keeps the value exact in an f64. */
const MAX_LENGTH_DIGITS: i32 = 15;
const TOO_LARGE: i64 = -2;

const CONNECT = bytes("CONNECT");
const OPTIONS = bytes("OPTIONS");
const HEAD = bytes("HEAD");
const H_HOST = bytes("host");
const H_EXPECT = bytes("expect");
const H_CONNECTION = bytes("connection");
const H_CONTENT_LENGTH = bytes("content-length");
const H_TRANSFER_ENCODING = bytes("transfer-encoding");
const CLOSE = bytes("close");
const KEEP_ALIVE = bytes("keep-alive");
const CHUNKED = bytes("chunked");
const CONTINUE = bytes("100-continue");

// What the field lines said, gathered by readFields() for decide(). One request at a time.
let hosts = 0;
let badField = false;
let lengthSeen = false;
let lengthValue: i64 = 0;
let codings = 0;
let chunkedCount = 0;
let lastChunked = false;
let otherCoding = false;
let wantClose = false;
let wantKeepAlive = false;
let expectContinue = false;
let expectOther = false;

/** Decides the framing of the complete head at p (scanned into `s`, indexed into `table`).
 *  Returns 0, or the status to refuse it with: 400, 413, 417, 501 or 505. */
export function frame(f: Framing, s: Scan, p: usize, table: usize): i32 {
  if (s.major != 1 || s.minor > 1) return 505;
  f.http10 = s.minor == 0;
  const method = p + <usize>s.method;
  const methodLen = s.target - 1 - s.method;
  f.connect = equals(method, methodLen, CONNECT);
  f.head = equals(method, methodLen, HEAD);
  const options = equals(method, methodLen, OPTIONS);
  if (parseTarget(f.target, p, s.target, s.version - 1 - s.target, f.connect, options) != 0)
    return 400;
  readFields(p, table, s.fields);
  if (badField) return 400;
  return decide(f);
}

function readFields(p: usize, table: usize, n: i32): void {
  hosts = 0;
  badField = false;
  lengthSeen = false;
  lengthValue = 0;
  codings = 0;
  chunkedCount = 0;
  lastChunked = false;
  otherCoding = false;
  wantClose = false;
  wantKeepAlive = false;
  expectContinue = false;
  expectOther = false;
  for (let i = 0; i < n; i++) {
    const name = p + <usize>fieldNameAt(table, i);
    const nameLen = fieldNameLen(table, i);
    const at = fieldValueAt(table, i);
    const end = at + fieldValueLen(table, i);
    if (equalsLower(name, nameLen, H_HOST)) {
      hosts++; // its syntax was checked at its line's end (scan.ts, early.ts)
    } else if (equalsLower(name, nameLen, H_CONTENT_LENGTH)) {
      if (lengthSeen) badField = true; // repeated, even with the same value
      lengthSeen = true;
      lengthValue = parseLength(p + <usize>at, end - at);
      if (lengthValue == -1) badField = true;
    } else if (equalsLower(name, nameLen, H_TRANSFER_ENCODING)) {
      readCodings(p, at, end);
    } else if (equalsLower(name, nameLen, H_CONNECTION)) {
      readConnection(p, at, end);
    } else if (equalsLower(name, nameLen, H_EXPECT)) {
      if (equalsLower(p + <usize>at, end - at, CONTINUE)) expectContinue = true;
      else expectOther = true;
    }
  }
}

function decide(f: Framing): i32 {
  if (hosts > 1 || (hosts == 0 && !f.http10)) return 400; // RFC 9112 3.2
  f.body = Body.NONE;
  f.length = 0;
  if (codings > 0) {
    if (f.http10 || lengthSeen) return 400; // RFC 9112 6.1, 6.3
    if (!lastChunked || chunkedCount > 1) return 400; // RFC 9112 6.3, 7
    if (otherCoding) return 501; // a coding we do not decode
    f.body = Body.CHUNKED;
  } else if (lengthSeen) {
    if (lengthValue == TOO_LARGE || lengthValue > maxBodyBytes) return 413;
    f.length = lengthValue;
    if (lengthValue > 0) f.body = Body.LENGTH;
  }
  if (f.connect && f.body != Body.NONE) return 400; // CONNECT has no content
  // RFC 9110 10.1.1: an HTTP/1.0 request's expectations are ignored.
  if (expectOther && !f.http10) return 417;
  f.expectContinue = expectContinue && !f.http10 && f.body != Body.NONE;
  f.keepAlive = !wantClose && !f.connect && (!f.http10 || wantKeepAlive);
  return 0;
}

/** 1*DIGIT; -1 when empty or not all digits (also "1, 1" and "+1"), TOO_LARGE past 15 digits. */
function parseLength(p: usize, len: i32): i64 {
  if (len == 0) return -1;
  let v: i64 = 0;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    if (!isDigit(c)) return -1;
    v = v * 10 + <i64>(c - 0x30);
  }
  return len > MAX_LENGTH_DIGITS ? TOO_LARGE : v;
}

/** Connection: 1#token. "close" wins over "keep-alive"; other options are ignored. */
function readConnection(p: usize, at: i32, end: i32): void {
  let i = at;
  while (i < end) {
    i = nextElement(p, i, end);
    if (elEnd == elAt) continue;
    if (tokenEnd(p, elAt, elEnd) != elEnd) {
      badField = true;
      return;
    }
    if (equalsLower(p + <usize>elAt, elEnd - elAt, CLOSE)) wantClose = true;
    else if (equalsLower(p + <usize>elAt, elEnd - elAt, KEEP_ALIVE)) wantKeepAlive = true;
  }
}

/** Transfer-Encoding: 1#transfer-coding, in order across field lines. "chunked" takes no
 *  parameters; any other coding is remembered (501 unless the list is malformed anyway). */
function readCodings(p: usize, at: i32, end: i32): void {
  let i = at;
  let any = false;
  while (i < end) {
    i = nextElement(p, i, end);
    if (elEnd == elAt) continue;
    any = true;
    codings++;
    const t = tokenEnd(p, elAt, elEnd);
    if (t == elAt) {
      badField = true;
      return;
    }
    let r = t;
    while (r < elEnd && isOws(<u32>load<u8>(p + <usize>r))) r++;
    const params = r < elEnd;
    if (params && <u32>load<u8>(p + <usize>r) != SEMI) {
      badField = true;
      return;
    }
    lastChunked = equalsLower(p + <usize>elAt, t - elAt, CHUNKED);
    if (lastChunked) {
      chunkedCount++;
      if (params) badField = true;
    } else otherCoding = true;
  }
  if (!any) badField = true; // an empty Transfer-Encoding
}
