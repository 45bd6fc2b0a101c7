// A minimal HTTP/1.1 server that answers every request with 200 "Hello, World!".
// It handles keep-alive (HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive"),
// pipelining (responses in request order, written together and sent with one send), HEAD,
// and request bodies with Content-Length (read and discarded). It refuses what it cannot
// handle safely: Transfer-Encoding (501), malformed syntax or bare LF (400), a head over
// MAX_HEAD bytes (431, or 414 while still in the request line), other versions (505).
// The full RFC 9112 parser and the app SDK come with proto/http (issue 3).
//
// Incremental: a head that arrives in pieces is scanned once; `scanned[slot]` remembers how
// far the current head has been checked, so a slow client never causes a rescan.
// Timeouts: a head must arrive whole within header-timeout-ms of its first byte (or of the
// connection's start), and an idle keep-alive connection is closed after keepalive-timeout-ms.

import { Bytes, bytes, equals, equalsLower } from "../bytes";
import { connEnd, connFail, connSetTimeout, connSpace, connWrite, maxConnections } from "../conn";
import { limit } from "../config";
import { count, REQUESTS } from "../stats";

/** Largest request head (request line + headers) accepted. */
const MAX_HEAD: i32 = 8192;
/** Space a response needs in the output before a request is taken off the input. */
const RESPONSE_ROOM: i32 = 256;

const INCOMPLETE: i32 = -2;
/** request()/answer(): a response was written and the connection is ending. */
const ENDING: i32 = -1;

/** How long a client may take to send a whole request head, from its first byte (slowloris). */
const HEADER_TIMEOUT_MS: f64 = 10_000;
/** How long an idle keep-alive connection stays open between requests. */
const KEEPALIVE_TIMEOUT_MS: f64 = 5_000;

let scanned = new StaticArray<i32>(0);
let bodyLeft = new StaticArray<i64>(0);
let headerTimeout: f64 = HEADER_TIMEOUT_MS;
let keepAliveTimeout: f64 = KEEPALIVE_TIMEOUT_MS;

/** Allocates per-slot state once the table size is known (wl_init). */
export function helloInit(): void {
  for (let c = 0; c < 256; c++) {
    store<u8>(CLASSES + <usize>c, (isTcharSlow(<u8>c) ? TCHAR : 0) | (isCtlSlow(<u8>c) ? CTL : 0));
  }
  scanned = new StaticArray<i32>(maxConnections());
  bodyLeft = new StaticArray<i64>(maxConnections());
  headerTimeout = limit("header-timeout-ms", HEADER_TIMEOUT_MS);
  keepAliveTimeout = limit("keepalive-timeout-ms", KEEPALIVE_TIMEOUT_MS);
}

const OK_HEAD = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n");
const KEEP_ALIVE = bytes("Connection: keep-alive\r\n");
const CLOSE = bytes("Connection: close\r\n");
const CRLF = bytes("\r\n");
const BODY = bytes("Hello, World!");
/** The usual answer (HTTP/1.1, keep-alive, not HEAD) whole, written with one connWrite. */
const OK_KEEP_ALIVE = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!");
const E400 = bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E414 = bytes("HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E431 = bytes("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E501 = bytes("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E505 = bytes("HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
/** "HTTP/1.0" and "HTTP/1.1" as little-endian u64s: a version is compared with one load. */
const HTTP10: u64 = 0x302e312f50545448;
const HTTP11: u64 = 0x312e312f50545448;
const HTTP_NAME = bytes("HTTP/");
const HEAD = bytes("head");
const H_CONNECTION = bytes("connection");
const H_CONTENT_LENGTH = bytes("content-length");
const H_TRANSFER_ENCODING = bytes("transfer-encoding");

export function helloOpen(slot: u32): void {
  scanned[slot] = 0;
  bodyLeft[slot] = 0;
  connSetTimeout(slot, headerTimeout);
}

/** DataFn: answers every complete request in [ptr, ptr+len); returns the bytes consumed. */
export function helloData(slot: u32, ptr: usize, len: i32): i32 {
  let used = 0;
  while (used < len) {
    const skip = bodyLeft[slot];
    if (skip > 0) {
      const take = <i32>min<i64>(skip, <i64>(len - used));
      bodyLeft[slot] = skip - take;
      used += take;
      if (skip == take) connSetTimeout(slot, keepAliveTimeout);
      continue;
    }
    if (connSpace(slot) < RESPONSE_ROOM) break; // output full: resume once it drains
    const n = request(slot, ptr + <usize>used, len - used);
    if (n == INCOMPLETE) break;
    // Refused, or answered with "Connection: close": RFC 9112 9.6 forbids processing any
    // request after it, so the rest of the input is ignored.
    if (n == ENDING) return len;
    used += n;
  }
  return used;
}

/** Handles the request at the start of [p, p+len): its head length, INCOMPLETE, or ENDING
 *  after an error response or a response that closes the connection. */
function request(slot: u32, p: usize, len: i32): i32 {
  // RFC 9112 2.2: ignore empty lines before a request line. A lone CR scanned before its LF
  // arrived is part of this empty line: forget it, or the next head's first byte goes unchecked.
  if (len >= 2 && load<u8>(p) == 0x0d && load<u8>(p, 1) == 0x0a) { scanned[slot] = 0; return 2; }
  if (scanned[slot] == 0) connSetTimeout(slot, headerTimeout); // a new head starts arriving
  const head = findHead(slot, p, len);
  if (head == INCOMPLETE) {
    if (len < MAX_HEAD) return INCOMPLETE;
    return refuse(slot, scanned[slot] < 0 ? E414 : E431);
  }
  if (head < 0) return refuse(slot, E400);
  scanned[slot] = 0;
  return answer(slot, p, head);
}

/** Looks for the blank line ending a head, checking that every LF follows a CR. Returns the
 *  head length, INCOMPLETE, or -1 (bare LF). `scanned` is how far the head has been checked:
 *  `n` once a line ended, `-n - 1` while the request line is still arriving. */
function findHead(slot: u32, p: usize, len: i32): i32 {
  const seen = scanned[slot];
  let sawLf = seen > 0;
  const from = seen < 0 ? -seen - 1 : seen;
  const end = min(len, MAX_HEAD);
  for (let i = from; i < end; i++) {
    if (load<u8>(p + <usize>i) != 0x0a) continue;
    if (i == 0 || load<u8>(p + <usize>i - 1) != 0x0d) return -1;
    sawLf = true;
    if (i >= 3 && load<u8>(p + <usize>i - 2) == 0x0a) return i + 1;
  }
  scanned[slot] = sawLf ? end : -end - 1;
  return INCOMPLETE;
}

function refuse(slot: u32, response: Bytes): i32 {
  connWrite(slot, response.ptr, response.len);
  connFail(slot);
  return ENDING;
}

/** Parses a complete head of `len` bytes and writes the response. */
function answer(slot: u32, p: usize, len: i32): i32 {
  const lineEnd = lineLength(p, len);
  if (lineEnd < 0) return refuse(slot, E400);
  const sp1 = indexOf(p, lineEnd, 0x20, 0);
  const sp2 = indexOf(p, lineEnd, 0x20, sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1) return refuse(slot, E400);
  for (let i = 0; i < sp1; i++) if (!isTchar(load<u8>(p + <usize>i))) return refuse(slot, E400);
  for (let i = sp1 + 1; i < sp2; i++) if (isCtl(load<u8>(p + <usize>i))) return refuse(slot, E400);
  const vp = p + <usize>sp2 + 1;
  const vlen = lineEnd - sp2 - 1;
  const version: u64 = vlen == 8 ? load<u64>(vp) : 0;
  const http10 = version == HTTP10;
  if (!http10 && version != HTTP11) return refuse(slot, isHttpVersion(vp, vlen) ? E505 : E400);
  const headRequest = equalsLower(p, sp1, HEAD);
  let keepAlive = !http10;
  let contentLength: i64 = -1;
  // Header lines: [at, eol) without the CRLF, until the empty line.
  let at = lineEnd + 2;
  while (at < len - 2) {
    const lineLen = lineLength(p + <usize>at, len - at);
    if (lineLen < 0) return refuse(slot, E400);
    const eol = at + lineLen;
    const colon = indexOf(p, eol, 0x3a, at);
    if (colon <= at) return refuse(slot, E400);
    for (let i = at; i < colon; i++) if (!isTchar(load<u8>(p + <usize>i))) return refuse(slot, E400);
    let vs = colon + 1, ve = eol;
    while (vs < ve && isOws(load<u8>(p + <usize>vs))) vs++;
    while (ve > vs && isOws(load<u8>(p + <usize>ve - 1))) ve--;
    for (let i = vs; i < ve; i++) if (isCtl(load<u8>(p + <usize>i))) return refuse(slot, E400);
    // The three names that matter have different lengths: one comparison picks the candidate.
    const name = p + <usize>at, nlen = colon - at;
    if (nlen == H_TRANSFER_ENCODING.len) {
      if (equalsLower(name, nlen, H_TRANSFER_ENCODING)) return refuse(slot, E501);
    } else if (nlen == H_CONTENT_LENGTH.len) {
      if (equalsLower(name, nlen, H_CONTENT_LENGTH)) {
        if (contentLength >= 0) return refuse(slot, E400);
        contentLength = parseLength(p + <usize>vs, ve - vs);
        if (contentLength < 0) return refuse(slot, E400);
      }
    } else if (nlen == H_CONNECTION.len && equalsLower(name, nlen, H_CONNECTION)) {
      if (hasToken(p + <usize>vs, ve - vs, "close")) keepAlive = false;
      else if (hasToken(p + <usize>vs, ve - vs, "keep-alive")) keepAlive = true;
    }
    at = eol + 2;
  }
  count(REQUESTS);
  if (contentLength > 0) bodyLeft[slot] = contentLength;
  // Until the next request starts: the keep-alive timeout, or only the idle one during a body.
  connSetTimeout(slot, contentLength > 0 ? 0 : keepAliveTimeout);
  respond(slot, headRequest, keepAlive, http10);
  return keepAlive ? len : ENDING;
}

function respond(slot: u32, headRequest: bool, keepAlive: bool, http10: bool): void {
  if (keepAlive && !http10 && !headRequest) { connWrite(slot, OK_KEEP_ALIVE.ptr, OK_KEEP_ALIVE.len); return; }
  connWrite(slot, OK_HEAD.ptr, OK_HEAD.len);
  if (!keepAlive) connWrite(slot, CLOSE.ptr, CLOSE.len);
  else if (http10) connWrite(slot, KEEP_ALIVE.ptr, KEEP_ALIVE.len);
  connWrite(slot, CRLF.ptr, CRLF.len);
  if (!headRequest) connWrite(slot, BODY.ptr, BODY.len);
  if (!keepAlive) connEnd(slot);
}

/** True for a well-formed HTTP-version (`HTTP/` DIGIT `.` DIGIT, case-sensitive) of any number. */
function isHttpVersion(p: usize, len: i32): bool {
  if (len != 8 || !equals(p, 5, HTTP_NAME)) return false;
  return isDigit(load<u8>(p, 5)) && load<u8>(p, 6) == 0x2e && isDigit(load<u8>(p, 7));
}

/** Length of the line at p up to its CRLF (the head is known to end in one), or -1 for a CR
 *  that is not followed by LF. */
function lineLength(p: usize, len: i32): i32 {
  for (let i = 0; i < len - 1; i++) {
    if (load<u8>(p + <usize>i) != 0x0d) continue;
    return load<u8>(p + <usize>i + 1) == 0x0a ? i : -1;
  }
  return -1;
}

function indexOf(p: usize, end: i32, ch: u8, from: i32): i32 {
  for (let i = from; i < end; i++) if (load<u8>(p + <usize>i) == ch) return i;
  return -1;
}

/** Decimal digits only, at most 15 of them (no sign, no spaces, no overflow); else -1. */
function parseLength(p: usize, len: i32): i64 {
  if (len == 0 || len > 15) return -1;
  let v: i64 = 0;
  for (let i = 0; i < len; i++) {
    const d = <i32>load<u8>(p + <usize>i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** True when the comma-separated list at [p, p+len) holds `token` (ASCII, case-insensitive). */
function hasToken(p: usize, len: i32, token: string): bool {
  const tlen = token.length;
  let i = 0;
  while (i < len) {
    while (i < len && (load<u8>(p + <usize>i) == 0x2c || isOws(load<u8>(p + <usize>i)))) i++;
    let j = i;
    while (j < len && load<u8>(p + <usize>j) != 0x2c) j++;
    let e = j;
    while (e > i && isOws(load<u8>(p + <usize>e - 1))) e--;
    if (e - i == tlen) {
      let same = true;
      for (let k = 0; k < tlen; k++) {
        if ((load<u8>(p + <usize>(i + k)) | 0x20) != <u8>token.charCodeAt(k)) { same = false; break; }
      }
      if (same) return true;
    }
    i = j + 1;
  }
  return false;
}

// @ts-ignore: decorator
@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }
// @ts-ignore: decorator
@inline function isOws(c: u8): bool { return c == 0x20 || c == 0x09; }

/** Character classes, one byte per octet (filled by helloInit from the definitions below):
 *  one load per byte instead of a chain of comparisons. */
const CLASSES = memory.data(256);
const TCHAR: u8 = 1;
const CTL: u8 = 2;

// @ts-ignore: decorator
@inline function isTchar(c: u8): bool { return (load<u8>(CLASSES + <usize>c) & TCHAR) != 0; }
// @ts-ignore: decorator
@inline function isCtl(c: u8): bool { return (load<u8>(CLASSES + <usize>c) & CTL) != 0; }

function isCtlSlow(c: u8): bool { return (c < 0x20 && c != 0x09) || c == 0x7f; }

/** RFC 9110 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~". */
function isTcharSlow(c: u8): bool {
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  switch (c) {
    case 0x21: case 0x23: case 0x24: case 0x25: case 0x26: case 0x27: case 0x2a:
    case 0x2b: case 0x2d: case 0x2e: case 0x5e: case 0x5f: case 0x60: case 0x7c: case 0x7e:
      return true;
    default:
      return false;
  }
}

/** SalvageFn: a connection moves to a fresh instance unless it is skipping a request body
 *  (its unread input would be taken for a head). hello has no trap reply. */
export function helloSalvage(slot: u32, culprit: bool): bool {
  return !culprit && bodyLeft[slot] == 0;
}
