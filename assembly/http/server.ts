// The HTTP/1.1 server: the per-connection request cycle on top of the connection core
// (socket.ts). One request at a time per connection, so pipelined requests are answered strictly
// in order: a head is parsed only after the previous response has ended (and its body has been
// read). Body bytes go to the app as they arrive; while the app's output waits for the peer the
// core stops reading (backpressure both ways).
//
//   HEAD --head ok--> handler --> BODY --body in--> onEnd --> RESPONDING --res.end()--> HEAD
//     |                            |  (res ended early: the rest of the body is discarded)  |
//     +--malformed: 4xx, close     +--bad chunk / too large: 400/413, close     close --> CLOSED

import {
  connFail,
  connSetTimeout,
  connSpace,
  instanceRetiring,
  count,
  handleDrain,
  handleInit,
  handleSalvage,
  handleTimeout,
  maxConnections,
  serve as serveProtocol,
  setTrapReply,
  TIMEOUTS,
} from "../socket";
import { decode, dataAt, dataLen, sizeRead, Chunk } from "./chunked";
import { fieldsInit } from "./fields";
import { Body, frame } from "./framing";
import { endLate, extendBodyDeadline } from "./deadline";
import { buffersInit } from "./buffers";
import { callbacksInit, dataFns, drainFns } from "./callbacks";
import { bodyEnd, setHandler, settle, start } from "./cycle";
import { Handler, noHandler } from "./handler";
import { headerTimeoutMs, maxBodyBytes, maxHeaders, readLimits } from "./limits";
import { Phase, Request } from "./request";
import { Response } from "./response";
import { MORE, scanHead } from "./scan";
import {
  endLoan,
  giveBack,
  heldRequest,
  heldResponse,
  holdsNothing,
  lend,
  lentResponse,
  releaseIdle,
  requestAt,
  responseAt,
  salvageSlot,
  slotsInit,
} from "./slots";
import { putAscii } from "./put";

/** Room the output must have before the next request is taken off the input: pipelined
 *  requests wait in the input while earlier responses go out, not in the spill. */
const RESPONSE_ROOM: i32 = 16384;

let appInit: () => void = noInit;

/** Serves HTTP/1.1 with `h` handling every request. Call it once, at the app's top level. */
export function serve(h: Handler): void {
  setHandler(h);
  serveProtocol(httpData, httpOpen, httpClose);
  handleInit(httpInit);
  handleDrain(httpDrain);
  handleTimeout(httpTimeout);
  handleSalvage(salvageSlot);
  setTrapReply(TRAP_REPLY);
}

/** What the host sends a request whose handler trapped, when no byte of its response has gone
 *  out: a u32 length, then the response (5xx may omit Date, RFC 9110 6.6.1). */
const TRAP_REPLY_TEXT =
  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const TRAP_REPLY: usize = memory.data(4 + 128, 4);

function writeTrapReply(): void {
  store<u32>(TRAP_REPLY, <u32>putAscii(TRAP_REPLY + 4, TRAP_REPLY_TEXT));
}

/** `fn` runs once at start-up, after the limits are read: the place for an app to allocate
 *  per-slot state (slots are 0 .. maxConnections() - 1, from "../socket"). */
export function onInit(fn: () => void): void {
  appInit = fn;
}

function noInit(): void {}

function httpInit(): void {
  writeTrapReply();
  readLimits();
  buffersInit();
  slotsInit();
  fieldsInit(maxHeaders);
  callbacksInit(maxConnections());
  appInit();
}

/** SlotFn. A new connection holds no request until bytes arrive (slots.ts). */
function httpOpen(slot: u32): void {
  connSetTimeout(slot, headerTimeoutMs);
}

function httpClose(slot: u32): void {
  releaseIdle(slot, true);
}

/** DataFn: runs the request cycle over [ptr, ptr+len); returns the bytes consumed. A connection
 *  idle between requests (every keep-alive read) is lent the ready pair for this call. */
function httpData(slot: u32, ptr: usize, len: i32): i32 {
  const held = heldRequest(slot);
  const req = held !== null ? held : lend(slot);
  const res = held !== null ? heldResponse(slot) : lentResponse();
  const used = serveInput(req, res, ptr, len);
  if (held === null) endLoan(slot, req, res);
  else if (holdsNothing(req, res)) giveBack(slot, req, res);
  return used;
}

/** httpData's one call: inlined, every read's path. */
// @ts-ignore: decorator
@inline
function serveInput(req: Request, res: Response, ptr: usize, len: i32): i32 {
  const slot = req.slot;
  let used = 0;
  while (used < len) {
    let n = 0;
    if (req.phase == Phase.HEAD) {
      if (used > 0 && connSpace(slot) < RESPONSE_ROOM) break; // resume once the output drains
      if (instanceRetiring()) break; // the next request is the new instance's (a reload)
      n = onHead(req, res, ptr + <usize>used, len - used);
    } else if (req.phase == Phase.BODY) n = onBody(req, res, ptr + <usize>used, len - used);
    else if (req.phase == Phase.CLOSED) return len; // RFC 9112 9.6: nothing after a close
    if (n <= 0) return n < 0 ? len : used;
    used += n;
    if (req.phase != Phase.HEAD) settle(req, res); // a request answered in start() has settled
    if (req.phase == Phase.CLOSED) return len;
    if (res.spill.length > 0 || res.drainWanted) break; // output first (connWantDrain is set)
  }
  return used;
}

/** Scans the head; once complete, frames it and calls the handler. Returns the head length,
 *  0 for more input, or -1 after refusing it. */
function onHead(req: Request, res: Response, p: usize, len: i32): i32 {
  const resumed = req.scan.pos != 0;
  const n = scanHead(req.scan, p, len);
  if (n == MORE) {
    // A head started arriving: it has header-timeout-ms from now. (One that is complete in
    // this call never needs that deadline: start() sets the request's own at once.)
    if (!resumed) connSetTimeout(req.slot, headerTimeoutMs);
    return 0;
  }
  if (n < 0) return reject(req, res, -n);
  const status = frame(req.framing, req.scan, p);
  if (status != 0) return reject(req, res, status);
  start(req, res, p, n);
  return n;
}

/** Body bytes: returns those consumed, or -1 after refusing the request. */
function onBody(req: Request, res: Response, p: usize, len: i32): i32 {
  const n = bodyBytes(req, res, p, len);
  if (n <= 0 || req.phase != Phase.BODY || extendBodyDeadline(req, n)) return n;
  count(TIMEOUTS);
  endLate(req, res); // these bytes came after the body's deadline
  return -1;
}
function bodyBytes(req: Request, res: Response, p: usize, len: i32): i32 {
  if (req.framing.body == Body.LENGTH) {
    const n = <i32>min<i64>(req.left, <i64>len);
    req.left -= n;
    if (!deliver(req, res, p, n)) return -1;
    if (req.left == 0) bodyEnd(req, res);
    return n;
  }
  const n = decode(req.chunked, p, len);
  if (n < 0) return reject(req, res, -n);
  if (sizeRead && req.received + req.chunked.size > maxBodyBytes) return reject(req, res, 413);
  if (dataLen > 0 && !deliver(req, res, p + <usize>dataAt, dataLen)) return -1;
  if (req.chunked.state == Chunk.DONE) bodyEnd(req, res);
  return n;
}

/** Offers a piece of the body to the app (and to the collected body). False after a 413. */
function deliver(req: Request, res: Response, p: usize, n: i32): bool {
  if (n == 0) return true;
  req.received += n;
  if (req.collectMax >= 0) {
    if (<i64>req.collected.length + n > <i64>req.collectMax || !req.collected.append(p, n)) {
      reject(req, res, 413);
      return false;
    }
  }
  if (res.failed || !req.registered) return true;
  const v = req.bodyView;
  v.ptr = p;
  v.length = n;
  dataFns[req.slot](req, res, v);
  return true;
}

/** Answers `status` and closes (an aborted response if one was under way). Returns -1. */
function reject(req: Request, res: Response, status: i32): i32 {
  if (req.phase == Phase.HEAD) res.begin(false, false, false);
  if (!res.committed) res.refuse(status);
  else if (!res.ended) res.abort();
  req.phase = Phase.CLOSED;
  req.bodyDeadline = 0;
  req.kept.clear();
  req.collected.clear();
  connFail(req.slot);
  return -1;
}

/** DrainFn: the output has been sent; send what waited, then let the app stream more. */
function httpDrain(slot: u32): void {
  const req = requestAt(slot);
  if (req === null) return;
  const res = responseAt(slot);
  if (!res.pump()) return;
  if (res.drainWanted && req.phase != Phase.CLOSED) {
    res.drainWanted = false;
    const fn = drainFns[slot];
    drainFns[slot] = noHandler;
    fn(req, res);
  }
  settle(req, res);
  releaseIdle(slot);
}

/** TimeoutFn: a head that started, or a body, did not arrive in time: 408 (RFC 9110 15.5.9)
 *  if nothing of the response has gone out, else the response is cut short (a 408 cannot
 *  follow a head); then close. An idle connection is closed silently by the core. */
function httpTimeout(slot: u32): void {
  const req = requestAt(slot);
  if (req === null) return; // idle: the core closes it silently
  const res = responseAt(slot);
  if (req.phase == Phase.HEAD) {
    if (req.scan.pos == 0) return;
    res.begin(false, false, false);
  } else if (req.phase != Phase.BODY || req.bodyDeadline == 0) return;
  endLate(req, res);
}
