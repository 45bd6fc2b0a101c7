// A minimal HTTP/1.1 server that answers every request with 200 "Hello, World!".
// It handles keep-alive (HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive"),
// pipelining (responses in request order, written together and sent with one send), HEAD,
// and request bodies with Content-Length (read and discarded). It refuses what it cannot
// handle safely: Transfer-Encoding (501), malformed syntax or bare LF (400), a head over
// MAX_HEAD bytes (431, or 414 while still in the request line), other versions (505).
// The full RFC 9112 parser and the app SDK are in assembly/http/ (docs/HTTP.md).
//
// Incremental: a head that arrives in pieces is scanned once, and refused at the first byte
// that makes it invalid. The scanner is the SDK's (http/scan.ts) under hello's own, smaller rule
// set (http/limits.ts useHelloRules): one parser for both.
// Timeouts: a head must arrive whole within header-timeout-ms of its first byte (or of the
// connection's start), an idle keep-alive connection is closed after keepalive-timeout-ms, and
// a body must keep arriving at body-min-rate after body-timeout-ms (mod_reqtimeout's body=20,
// MinRate=500), or the connection is closed.

import { Bytes, bytes, equalsLower } from "../bytes";
import { limit } from "../config";
import {
  connEnd,
  connFail,
  connNow,
  connSetTimeout,
  connSpace,
  connWrite,
  count,
  instanceRetiring,
  maxConnections,
  REQUESTS,
} from "../socket";
import { useHelloRules } from "../http/limits";
import { MORE, Scan, scanHead } from "../http/scan";
import { SEEN_CLOSE, SEEN_KEEP_ALIVE, SEEN_LENGTH } from "../http/scan-state";

/** Space a response needs in the output before a request is taken off the input. */
const RESPONSE_ROOM: i32 = 256;

/** request()/answer(): a response was written and the connection is ending. */
const ENDING: i32 = -1;
/** request(): more bytes are needed. */
const INCOMPLETE: i32 = -2;

/** How long a client may take to send a whole request head, from its first byte (slowloris). */
const HEADER_TIMEOUT_MS: f64 = 10_000;
/** How long an idle keep-alive connection stays open between requests. */
const KEEPALIVE_TIMEOUT_MS: f64 = 5_000;

/** How long a request body may take to arrive, from the end of its head, before each byte
 *  received extends it (body-timeout-ms; mod_reqtimeout's body=20). */
const BODY_TIMEOUT_MS: f64 = 20_000;
/** Bytes per second of body that extend that deadline by 1 s (body-min-rate; MinRate=500). */
const BODY_MIN_RATE: f64 = 500;

/** Each slot's Scan, maxConnections() of them in one block (Scan is unmanaged), SCAN_STRIDE
 *  bytes apart: a multiple of 8, so every Scan's i64 stays aligned. */
let scans: usize = 0;
const SCAN_STRIDE: usize = (offsetof<Scan>() + 7) & ~7;
let bodyLeft = new StaticArray<i64>(0);
/** When the body being skipped must have arrived (0: no deadline); see skipBody. */
let bodyDeadline = new StaticArray<f64>(0);
let headerTimeout: f64 = HEADER_TIMEOUT_MS;
let keepAliveTimeout: f64 = KEEPALIVE_TIMEOUT_MS;
let bodyTimeout: f64 = BODY_TIMEOUT_MS;
let bodyMsPerByte: f64 = 1000 / BODY_MIN_RATE;

/** Allocates per-slot state once the table size is known (wl_init). */
export function helloInit(): void {
  useHelloRules();
  const bytes = <usize>maxConnections() * SCAN_STRIDE;
  scans = heap.alloc(bytes);
  memory.fill(scans, 0, bytes);
  bodyLeft = new StaticArray<i64>(maxConnections());
  bodyDeadline = new StaticArray<f64>(maxConnections());
  headerTimeout = limit("header-timeout-ms", HEADER_TIMEOUT_MS);
  keepAliveTimeout = limit("keepalive-timeout-ms", KEEPALIVE_TIMEOUT_MS);
  bodyTimeout = limit("body-timeout-ms", BODY_TIMEOUT_MS);
  const rate = limit("body-min-rate", BODY_MIN_RATE);
  bodyMsPerByte = rate > 0 ? 1000 / rate : 0;
}

const OK_HEAD = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n");
const KEEP_ALIVE = bytes("Connection: keep-alive\r\n");
const CLOSE = bytes("Connection: close\r\n");
const CRLF = bytes("\r\n");
const BODY = bytes("Hello, World!");
/** The usual answer (HTTP/1.1, keep-alive, not HEAD) whole, written with one connWrite. */
const OK_KEEP_ALIVE = bytes(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!",
);
const E400 = bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E414 = bytes("HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const E431 = bytes(
  "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
);
const E501 = bytes(
  "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
);
const E505 = bytes(
  "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
);
const HEAD = bytes("head");

// @ts-ignore: decorator
@inline function scanOf(slot: u32): Scan {
  return changetype<Scan>(scans + <usize>slot * SCAN_STRIDE);
}

export function helloOpen(slot: u32): void {
  scanOf(slot).reset();
  bodyLeft[slot] = 0;
  connSetTimeout(slot, headerTimeout);
}

/** DataFn: answers every complete request in [ptr, ptr+len); returns the bytes consumed. */
export function helloData(slot: u32, ptr: usize, len: i32): i32 {
  let used = 0;
  while (used < len) {
    const skip = unchecked(bodyLeft[slot]); // slot < maxConnections(), its length: no check
    if (skip > 0) {
      used += skipBody(slot, skip, len - used);
      continue;
    }
    if (connSpace(slot) < RESPONSE_ROOM) break; // output full: resume once it drains
    if (instanceRetiring()) break; // the next request is the new instance's (a reload)
    const n = request(slot, ptr + <usize>used, len - used);
    if (n == INCOMPLETE) break;
    // Refused, or answered with "Connection: close": RFC 9112 9.6 forbids processing any
    // request after it, so the rest of the input is ignored.
    if (n == ENDING) return len;
    used += n;
  }
  return used;
}

/** Discards up to `avail` bytes of the `skip` body bytes still owed. The body deadline (mod_
 *  reqtimeout's body=T,MinRate=R, no upper bound) moves on by 1000 / R ms per byte; when it
 *  passes the core closes the connection (no timeout handler: hello's response has already
 *  gone out, so a 408 cannot follow it). Returns the bytes taken. */
function skipBody(slot: u32, skip: i64, avail: i32): i32 {
  const take = <i32>min<i64>(skip, <i64>avail);
  bodyLeft[slot] = skip - take;
  if (skip == take) {
    connSetTimeout(slot, keepAliveTimeout);
    return take;
  }
  const deadline = bodyDeadline[slot];
  if (deadline > 0 && bodyMsPerByte > 0) {
    const next = deadline + <f64>take * bodyMsPerByte;
    bodyDeadline[slot] = next;
    // Past due even with these bytes: the armed deadline stands and fires in this dispatch's
    // sweep. (Re-arming from now would let a byte per sweep keep it alive forever.)
    if (next > connNow()) connSetTimeout(slot, next - connNow());
  }
  return take;
}

/** Handles the request at the start of [p, p+len): its head length, INCOMPLETE, or ENDING
 *  after an error response or a response that closes the connection. */
function request(slot: u32, p: usize, len: i32): i32 {
  const sc = scanOf(slot);
  // RFC 9112 2.2: ignore empty lines before a request line.
  if (len >= 2 && load<u8>(p) == 0x0d && load<u8>(p, 1) == 0x0a) {
    sc.reset();
    return 2;
  }
  const starts = sc.pos == 0; // a new head starts arriving
  const head = scanHead(sc, p, len);
  // A head complete in this call is answered now, and answer() sets the next deadline: the
  // header deadline would only be replaced in the same dispatch (its clock does not move).
  if (head > 0) return answer(slot, sc, p, head);
  if (starts) connSetTimeout(slot, headerTimeout);
  if (head == MORE) return INCOMPLETE;
  return refuse(slot, refusal(-head));
}

function refusal(status: i32): Bytes {
  switch (status) {
    case 414:
      return E414;
    case 431:
      return E431;
    case 501:
      return E501;
    case 505:
      return E505;
    default:
      return E400;
  }
}

function refuse(slot: u32, response: Bytes): i32 {
  connWrite(slot, response.ptr, response.len);
  connFail(slot);
  return ENDING;
}

/** Answers the complete, checked head of `len` bytes that `sc` scanned. */
function answer(slot: u32, sc: Scan, p: usize, len: i32): i32 {
  const headRequest = equalsLower(p + <usize>sc.method, sc.target - 1 - sc.method, HEAD);
  const http10 = sc.minor == 0;
  const seen = sc.seen;
  // The last Connection field naming close or keep-alive decides (early.ts), else the version.
  const keepAlive = (seen & SEEN_CLOSE) == 0 && ((seen & SEEN_KEEP_ALIVE) != 0 || !http10);
  const contentLength: i64 = (seen & SEEN_LENGTH) != 0 ? sc.length : -1;
  sc.reset();
  count(REQUESTS);
  if (contentLength > 0) startBody(slot, contentLength);
  else connSetTimeout(slot, keepAliveTimeout); // until the next request starts
  respond(slot, headRequest, keepAlive, http10);
  return keepAlive ? len : ENDING;
}

function startBody(slot: u32, length: i64): void {
  bodyLeft[slot] = length;
  bodyDeadline[slot] = bodyTimeout > 0 ? connNow() + bodyTimeout : 0;
  connSetTimeout(slot, bodyTimeout);
}

function respond(slot: u32, headRequest: bool, keepAlive: bool, http10: bool): void {
  if (keepAlive && !http10 && !headRequest) {
    connWrite(slot, OK_KEEP_ALIVE.ptr, OK_KEEP_ALIVE.len);
    return;
  }
  connWrite(slot, OK_HEAD.ptr, OK_HEAD.len);
  if (!keepAlive) connWrite(slot, CLOSE.ptr, CLOSE.len);
  else if (http10) connWrite(slot, KEEP_ALIVE.ptr, KEEP_ALIVE.len);
  connWrite(slot, CRLF.ptr, CRLF.len);
  if (!headRequest) connWrite(slot, BODY.ptr, BODY.len);
  if (!keepAlive) connEnd(slot);
}

/** SalvageFn: a connection moves to a fresh instance unless it is skipping a request body
 *  (its unread input would be taken for a head). hello has no trap reply. */
export function helloSalvage(slot: u32, culprit: bool): bool {
  return !culprit && bodyLeft[slot] == 0;
}
