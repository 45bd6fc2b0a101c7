// The connection table and the connection state machine.
//
// Interest policy (level-triggered, documented once here and in docs/EVENTS.md):
// a connection is registered once at accept with EPOLLIN|EPOLLRDHUP and keeps that interest
// while it has no output pending, so a keep-alive request costs no epoll_ctl. When a send is
// short, the connection switches to EPOLLOUT alone: it stops reading until the peer has taken
// what it owes (backpressure), then switches back. Level-triggered epoll reports a socket again
// while it stays ready, so one recv per readiness event is enough and no read budget is needed.
//
//           accept
//             |
//             v        short send         output flushed
//         READING  -------------------> WRITING ----------+
//         ^  |  |                                          |
//         |  |  +------------------------------------------+-> back to READING
//         |  | protocol ends / drain
//         |  v
//         |  CLOSING --(output flushed)--> LINGER --(EOF, error, timeout)--> closed
//         |                                  (write side shut, input discarded)
//   peer EOF with output owed: HALF_CLOSED --(output flushed)--> closed
//   EPOLLERR, EPOLLHUP, reset, or EOF with nothing owed: closed at once.

import { wl_close, wl_recv, wl_send, wl_shutdown_handle, wl_watch } from "./abi";
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from "./epoll";
import { EAGAIN } from "./errno";
import { acquire, release, BUF_SIZE, RECV_BUF } from "./pool";
import { onClose, onData, onOpen } from "./protocol";
import { count, uncount, ACCEPTED, BYTES_IN, BYTES_OUT, CLOSED, OPEN, PROTOCOL_ERRORS } from "./stats";
import { nextGen } from "./token";

/** Slots in the connection table; accept pauses while all are taken. */
export const MAX_CONNS: i32 = 16384;

/** How long a connection we have shut down for writing may keep sending before we close it
 *  (nginx calls this lingering_timeout; it protects the last response from an RST). */
export const LINGER_MS: f64 = 2000;

export const enum State { FREE = 0, READING, WRITING, HALF_CLOSED, CLOSING, LINGER }

/** One connection. A slot index and its generation form the connection's token (token.ts). */
@unmanaged export class Conn {
  handle: i32;
  gen: u32;
  state: State;
  failed: bool;      // a buffer could not be had: close at the next check
  interest: u32;     // the epoll mask last given to watch()
  inBuf: usize;      // unparsed input: a pooled buffer, RECV_BUF while borrowed, or 0
  inStart: i32;
  inEnd: i32;
  outBuf: usize;     // unsent output: a pooled buffer or 0
  outStart: i32;
  outEnd: i32;
  deadline: f64;     // LINGER only: when to give up on the peer's EOF
  nextFree: i32;     // free-list link while FREE
}

let table: usize = 0;
let freeHead: i32 = -1;
let highWater: i32 = 0;   // slots below this index have been used at least once
let lingering: i32 = 0;   // connections in LINGER (the only ones with a deadline)
let draining = false;     // wl_shutdown was called: close connections once idle
export let nowMs: f64 = 0;

/** The connection in `slot` (valid for 0 <= slot < MAX_CONNS). */
// @ts-ignore: decorator
@inline export function conn(slot: u32): Conn {
  return changetype<Conn>(table + <usize>slot * offsetof<Conn>());
}

/** Allocates the table; called once from wl_init. */
export function connInit(): void {
  table = heap.alloc(<usize>MAX_CONNS * offsetof<Conn>());
  memory.fill(table, 0, <usize>MAX_CONNS * offsetof<Conn>());
  for (let i = 0; i < MAX_CONNS; i++) conn(i).gen = 1;
}

export function setNow(now: f64): void { nowMs = now; }
export function hasFreeSlot(): bool { return freeHead >= 0 || highWater < MAX_CONNS; }
export function lingerCount(): i32 { return lingering; }
export function slotsUsed(): i32 { return highWater; }

function takeSlot(): i32 {
  if (freeHead >= 0) {
    const slot = freeHead;
    freeHead = conn(slot).nextFree;
    return slot;
  }
  return highWater < MAX_CONNS ? highWater++ : -1;
}

/** Adopts an accepted handle. Returns false (and closes the handle) when no slot is free or
 *  the handle cannot be watched. */
export function connOpen(handle: i32): bool {
  const slot = takeSlot();
  if (slot < 0) { wl_close(handle); return false; }
  const c = conn(slot);
  c.handle = handle;
  c.state = State.READING;
  c.failed = false;
  c.interest = EPOLLIN | EPOLLRDHUP;
  if (wl_watch(handle, c.interest, slot, c.gen) < 0) {
    wl_close(handle);
    freeSlot(c, slot);
    return false;
  }
  count(ACCEPTED);
  count(OPEN);
  onOpen(slot);
  return true;
}

function freeSlot(c: Conn, slot: i32): void {
  c.gen = nextGen(c.gen);
  c.state = State.FREE;
  c.nextFree = freeHead;
  freeHead = slot;
}

function slotOf(c: Conn): u32 {
  return <u32>((changetype<usize>(c) - table) / offsetof<Conn>());
}

/** Closes at once: buffers go back to the pool, the slot's generation moves on so events still
 *  queued for it are stale. */
export function closeNow(c: Conn): void {
  const slot = slotOf(c);
  wl_close(c.handle);
  dropInput(c);
  if (c.outBuf != 0) release(c.outBuf);
  c.outBuf = 0; c.outStart = 0; c.outEnd = 0;
  if (c.state == State.LINGER) lingering--;
  onClose(slot);
  freeSlot(c, slot);
  count(CLOSED);
  uncount(OPEN);
}

function dropInput(c: Conn): void {
  if (c.inBuf != 0 && c.inBuf != RECV_BUF) release(c.inBuf);
  c.inBuf = 0; c.inStart = 0; c.inEnd = 0;
}

// @ts-ignore: decorator
@inline function outPending(c: Conn): bool { return c.outEnd > c.outStart; }

/** Handles one event for slot/gen. Events for a free slot or an older generation are stale. */
export function connEvent(slot: u32, gen: u32, events: u32): void {
  if (slot >= <u32>MAX_CONNS) return;
  const c = conn(slot);
  if (c.state == State.FREE || c.gen != gen) return;
  if (events & (EPOLLERR | EPOLLHUP)) { closeNow(c); return; }
  if (events & EPOLLOUT) {
    onWritable(c);
    if (c.state == State.FREE || c.gen != gen) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP)) && (c.state == State.READING || c.state == State.LINGER)) {
    onReadable(c);
  }
}

function onReadable(c: Conn): void {
  const borrowed = c.inBuf == 0;
  let at: usize = RECV_BUF;
  let room = BUF_SIZE;
  if (!borrowed) {
    compactInput(c);
    at = c.inBuf + <usize>c.inEnd;
    room = BUF_SIZE - c.inEnd;
    // A protocol that let a full buffer through without consuming it cannot make progress.
    if (room == 0) { count(PROTOCOL_ERRORS); closeNow(c); return; }
  }
  const n = wl_recv(c.handle, at, room);
  if (n > 0) {
    count(BYTES_IN, <u64>n);
    if (c.state == State.LINGER) { if (!borrowed) dropInput(c); return; }
    if (borrowed) { c.inBuf = RECV_BUF; c.inStart = 0; c.inEnd = n; } else c.inEnd += n;
    service(c);
  } else if (n == 0) {
    onPeerEof(c);
  } else if (n != -EAGAIN) {
    closeNow(c);
  }
}

function compactInput(c: Conn): void {
  if (c.inStart == 0) return;
  memory.copy(c.inBuf, c.inBuf + <usize>c.inStart, <usize>(c.inEnd - c.inStart));
  c.inEnd -= c.inStart;
  c.inStart = 0;
}

function onPeerEof(c: Conn): void {
  dropInput(c); // an unfinished request can never complete now
  if (c.state == State.LINGER || !outPending(c)) { closeNow(c); return; }
  c.state = State.HALF_CLOSED;
  setInterest(c, EPOLLOUT);
}

function onWritable(c: Conn): void {
  if (!flush(c)) return;
  if (outPending(c)) return;
  switch (c.state) {
    case State.WRITING: c.state = State.READING; service(c); break;
    case State.HALF_CLOSED: closeNow(c); break;
    case State.CLOSING: startLinger(c); break;
    default: break; // READING or LINGER: nothing was owed
  }
}

/** Runs the protocol over buffered input and flushes, until the input is used up, the protocol
 *  needs more bytes, or the peer stops taking output. Then settles state and interest. */
export function service(c: Conn): void {
  const slot = slotOf(c);
  let sentShort = false; // a send already came back short: a second try would only EAGAIN
  while (c.state == State.READING && c.inEnd > c.inStart) {
    const used = onData(slot, c.inBuf + <usize>c.inStart, c.inEnd - c.inStart);
    c.inStart += used;
    if (c.inStart == c.inEnd) dropInput(c);
    if (c.failed) { closeNow(c); return; }
    if (used == 0) break;
    if (!flush(c)) return;
    if (outPending(c)) { sentShort = true; break; }
  }
  if (!sentShort && !flush(c)) return;
  if (c.inBuf == RECV_BUF) {
    if (c.state == State.CLOSING) dropInput(c);
    else if (!adoptInput(c)) return;
  }
  settle(c);
}

/** Moves input left in the shared receive buffer into a pooled buffer of the connection's own. */
function adoptInput(c: Conn): bool {
  const len = c.inEnd - c.inStart;
  const buf = acquire();
  if (buf == 0) { closeNow(c); return false; }
  memory.copy(buf, RECV_BUF + <usize>c.inStart, <usize>len);
  c.inBuf = buf; c.inStart = 0; c.inEnd = len;
  return true;
}

/** Sends pending output once. False when the connection was closed by a send error. */
function flush(c: Conn): bool {
  const len = c.outEnd - c.outStart;
  if (len == 0) return true;
  const n = wl_send(c.handle, c.outBuf + <usize>c.outStart, len);
  if (n > 0) {
    count(BYTES_OUT, <u64>n);
    c.outStart += n;
    if (c.outStart == c.outEnd) {
      release(c.outBuf);
      c.outBuf = 0; c.outStart = 0; c.outEnd = 0;
    }
    return true;
  }
  if (n == 0 || n == -EAGAIN) return true;
  closeNow(c);
  return false;
}

/** After I/O: pick the next state from what is owed, and the interest that state needs. */
function settle(c: Conn): void {
  switch (c.state) {
    case State.READING:
      if (outPending(c)) { c.state = State.WRITING; setInterest(c, EPOLLOUT); }
      else if (draining && c.inEnd == c.inStart) startLinger(c);
      else setInterest(c, EPOLLIN | EPOLLRDHUP);
      break;
    case State.CLOSING:
      if (outPending(c)) setInterest(c, EPOLLOUT); else startLinger(c);
      break;
    case State.WRITING:
    case State.HALF_CLOSED:
      setInterest(c, EPOLLOUT);
      break;
    default: unreachable();
  }
}

function setInterest(c: Conn, events: u32): void {
  if (c.interest == events) return;
  c.interest = events;
  if (wl_watch(c.handle, events, slotOf(c), c.gen) < 0) closeNow(c);
}

/** Shuts our write side (the peer sees EOF after everything we sent) and discards input until
 *  the peer's EOF or LINGER_MS, so that closing never turns into an RST that destroys the
 *  last response in flight. */
function startLinger(c: Conn): void {
  dropInput(c);
  c.state = State.LINGER;
  c.deadline = nowMs + LINGER_MS;
  lingering++;
  if (wl_shutdown_handle(c.handle, 1) < 0) { closeNow(c); return; }
  setInterest(c, EPOLLIN | EPOLLRDHUP);
}

/** Closes LINGER connections whose deadline has passed. Returns ms until the next deadline, or -1. */
export function sweepLinger(now: f64): f64 {
  if (lingering == 0) return -1;
  let next: f64 = Infinity;
  for (let i = 0; i < highWater; i++) {
    const c = conn(i);
    if (c.state != State.LINGER) continue;
    if (c.deadline <= now) closeNow(c);
    else if (c.deadline < next) next = c.deadline;
  }
  return lingering == 0 ? -1 : next - now;
}

/** Starts a graceful drain: idle connections linger-close now, busy ones once idle. */
export function connDrainAll(): void {
  draining = true;
  for (let i = 0; i < highWater; i++) {
    const c = conn(i);
    if (c.state == State.READING) settle(c);
  }
}

// ---- The API protocols use (slot numbers only; the table stays private) ----

/** Appends up to `len` bytes from `ptr` to the connection's output; returns how many fit. The
 *  output is sent when the protocol returns from onData. */
export function connWrite(slot: u32, ptr: usize, len: i32): i32 {
  const c = conn(slot);
  if (c.outBuf == 0) {
    c.outBuf = acquire();
    if (c.outBuf == 0) { c.failed = true; return 0; }
  }
  if (BUF_SIZE - c.outEnd < len && c.outStart > 0) {
    memory.copy(c.outBuf, c.outBuf + <usize>c.outStart, <usize>(c.outEnd - c.outStart));
    c.outEnd -= c.outStart;
    c.outStart = 0;
  }
  const n = min(len, BUF_SIZE - c.outEnd);
  memory.copy(c.outBuf + <usize>c.outEnd, ptr, <usize>n);
  c.outEnd += n;
  return n;
}

/** The host handle behind a slot. Applications have no use for it; test guests use it to
 *  probe the sandbox with raw hostcalls. */
export function connHandle(slot: u32): i32 {
  return conn(slot).handle;
}

/** Bytes the connection's output can take right now. */
export function connSpace(slot: u32): i32 {
  const c = conn(slot);
  return BUF_SIZE - (c.outEnd - c.outStart);
}

/** Ends the connection once its output is sent; input after this point is ignored. */
export function connEnd(slot: u32): void {
  const c = conn(slot);
  if (c.state == State.READING || c.state == State.WRITING) c.state = State.CLOSING;
}

/** Like connEnd, for malformed input: also counted in protocol_errors. */
export function connFail(slot: u32): void {
  count(PROTOCOL_ERRORS);
  connEnd(slot);
}
