// The connection table and the connection state machine.
//
// Interest policy (level-triggered, documented once here and in docs/DESIGN.md):
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
//   EPOLLERR, EPOLLHUP, reset, EOF with nothing owed, or a timeout: closed at once.
//
// Deadlines: every connection has an idle deadline (no read or write progress for idleMs) and
// may have one more, set by its protocol (connSetTimeout) or by LINGER. They are checked by a
// sweep over the table (uSockets-style coarse timeouts) no more often than every SWEEP_MIN_MS.
// A protocol deadline never cuts off output in flight: while output is owed it is suspended,
// and it counts again from the moment the output has all been sent (a peer that stops reading
// is the idle timeout's business).

import { wl_close, wl_recv, wl_recv_many, wl_send, wl_send_many, wl_shutdown_handle, wl_watch } from "./abi";
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from "./epoll";
import { EAGAIN } from "./errno";
import { acquire, release, BUF_SIZE, RECV_AREA, RECV_AREA_SIZE } from "./pool";
import { callClose, callData, callDrain, callOpen, callSalvage, callTimeout } from "./protocol";
import { count, uncount, ACCEPTED, BYTES_IN, BYTES_OUT, CLOSED, OPEN, PROTOCOL_ERRORS, TIMEOUTS } from "./stats";
import { nextGen } from "./token";

/** Default size of the connection table (limit `max-connections`); accept pauses while all
 *  slots are taken. */
export const MAX_CONNS: i32 = 16384;

/** Default idle timeout (limit `idle-timeout-ms`): a connection that makes no read or write
 *  progress for this long is closed. 0 disables it. */
export const IDLE_MS: f64 = 60_000;

/** How long a connection we have shut down for writing may keep sending before we close it
 *  (nginx calls this lingering_timeout; it protects the last response from an RST). */
export const LINGER_MS: f64 = 2000;

/** Timeouts are checked at most this often: a bound on sweeps, so on the cost of many
 *  connections with slightly different deadlines. It is also their precision. */
const SWEEP_MIN_MS: f64 = 50;

/** Rounds of drain callbacks per event for a protocol streaming output, so one large response
 *  (or a pipeline of them) cannot starve the other connections (16 x 64 KiB = 1 MiB per turn).
 *  A connection that still wants to write waits in WRITING for its next EPOLLOUT. */
const DRAIN_BUDGET: i32 = 16;
let drainBudget: i32 = DRAIN_BUDGET; // what is left of it in the current event

export const enum State { FREE = 0, READING, WRITING, HALF_CLOSED, CLOSING, LINGER }

/** One connection. A slot index and its generation form the connection's token (token.ts). */
@unmanaged export class Conn {
  handle: i32;
  gen: u32;
  state: State;
  failed: bool;      // a buffer could not be had: close at the next check
  wantDrain: bool;   // the protocol has more output to write once there is room
  planned: bool;     // a recv is planned for it in the current batch (connBatchRun)
  interest: u32;     // the epoll mask last given to watch()
  inBuf: usize;      // unparsed input: a pooled buffer, in RECV_AREA while borrowed, or 0
  inStart: i32;
  inEnd: i32;
  outBuf: usize;     // unsent output: a pooled buffer or 0
  outStart: i32;
  outEnd: i32;
  idleAt: f64;       // closed if no progress by then (0 = no idle timeout)
  timerAt: f64;      // the protocol's deadline, or LINGER's (0 = none or suspended)
  timerMs: f64;      // the protocol's timeout, re-counted each time the output is all sent
  nextFree: i32;     // free-list link while FREE
}

let table: usize = 0;
let maxConns: i32 = MAX_CONNS;
let idleMs: f64 = IDLE_MS;
let freeHead: i32 = -1;
let highWater: i32 = 0;           // slots below this index have been used at least once
let nextSweepAt: f64 = Infinity;  // no deadline is earlier than this
let draining = false;             // wl_shutdown was called: close connections once idle
export let nowMs: f64 = 0;
/** The slot whose protocol code is running (an event, a deadline, an open), or -1. After a
 *  trap it is the connection that caused it (wl_salvage). */
let serving: i32 = -1;

/** The connection in `slot` (valid for 0 <= slot < maxConnections()). */
// @ts-ignore: decorator
@inline export function conn(slot: u32): Conn {
  return changetype<Conn>(table + <usize>slot * offsetof<Conn>());
}

/** Allocates the table; called once from wl_init with the limits in force. */
export function connInit(max: i32, idleTimeoutMs: f64): void {
  maxConns = max;
  idleMs = idleTimeoutMs;
  table = heap.alloc(<usize>maxConns * offsetof<Conn>());
  memory.fill(table, 0, <usize>maxConns * offsetof<Conn>());
  for (let i = 0; i < maxConns; i++) conn(i).gen = 1;
}

export function setNow(now: f64): void { nowMs = now; }
export function hasFreeSlot(): bool { return freeHead >= 0 || highWater < maxConns; }

function takeSlot(): i32 {
  if (freeHead >= 0) {
    const slot = freeHead;
    freeHead = conn(slot).nextFree;
    return slot;
  }
  return highWater < maxConns ? highWater++ : -1;
}

/** Takes an accepted handle. Returns false (and closes the handle) when no slot is free or
 *  the handle cannot be watched. */
export function connOpen(handle: i32): bool {
  const c = open(handle);
  if (c === null) return false;
  count(ACCEPTED);
  opened(c);
  return true;
}

/** Takes a connection a trapped instance handed over (wl_adopt): its unread input comes back
 *  from the first recv. `linger`: the host has answered it and it only waits to close. Not
 *  counted as accepted (the instance that accepted it did). */
export function connAdopt(handle: i32, linger: bool): bool {
  const c = open(handle);
  if (c === null) return false;
  opened(c);
  if (c.state == State.FREE) return true; // the protocol closed it in onOpen
  const slot = slotOf(c);
  serving = <i32>slot;
  // Read at once: epoll cannot report the input the host carries over for it.
  if (linger) startLinger(c); else received(c, RECV_AREA, wl_recv(c.handle, RECV_AREA, BUF_SIZE));
  serving = -1;
  return true;
}

function open(handle: i32): Conn | null {
  const slot = takeSlot();
  if (slot < 0) { wl_close(handle); return null; }
  const c = conn(slot);
  c.handle = handle;
  c.state = State.READING;
  c.failed = false;
  c.wantDrain = false;
  c.planned = false;
  c.timerAt = 0;
  c.timerMs = 0;
  c.interest = EPOLLIN | EPOLLRDHUP;
  if (wl_watch(handle, c.interest, slot, c.gen) < 0) {
    wl_close(handle);
    freeSlot(c, slot);
    return null;
  }
  touch(c);
  return c;
}

function opened(c: Conn): void {
  count(OPEN);
  serving = <i32>slotOf(c);
  callOpen(slotOf(c));
  serving = -1;
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
  c.idleAt = 0; c.timerAt = 0; c.timerMs = 0;
  callClose(slot);
  freeSlot(c, slot);
  count(CLOSED);
  uncount(OPEN);
}

/** True for input still in the shared receive area (not yet moved to a buffer of its own). */
// @ts-ignore: decorator
@inline function borrowed(buf: usize): bool { return buf - RECV_AREA < <usize>RECV_AREA_SIZE; }

function dropInput(c: Conn): void {
  if (c.inBuf != 0 && !borrowed(c.inBuf)) release(c.inBuf);
  c.inBuf = 0; c.inStart = 0; c.inEnd = 0;
}

// @ts-ignore: decorator
@inline function outPending(c: Conn): bool { return c.outEnd > c.outStart; }

// @ts-ignore: decorator
@inline function armAt(at: f64): void { if (at < nextSweepAt) nextSweepAt = at; }

/** Read or write progress: the idle deadline moves on. */
// @ts-ignore: decorator
@inline function touch(c: Conn): void {
  if (idleMs > 0) { c.idleAt = nowMs + idleMs; armAt(c.idleAt); }
}

/** Handles one event for slot/gen. Events for a free slot or an older generation are stale. */
export function connEvent(slot: u32, gen: u32, events: u32): void {
  if (slot >= <u32>highWater) return;
  const c = conn(slot);
  if (c.state == State.FREE || c.gen != gen) return;
  serving = <i32>slot;
  onEvent(c, slot, gen, events);
  serving = -1;
}

function onEvent(c: Conn, slot: u32, gen: u32, events: u32): void {
  drainBudget = DRAIN_BUDGET;
  if (events & (EPOLLERR | EPOLLHUP)) { closeNow(c); return; }
  if (events & EPOLLOUT) {
    onWritable(c);
    if (c.state == State.FREE || c.gen != gen) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP)) && (c.state == State.READING || c.state == State.LINGER)) {
    planRecv(c, slot);
  }
}

/** The result `n` of a recv planned by planRecv: into the shared area at `area`, or (0) onto
 *  the end of the connection's own input. */
function received(c: Conn, area: usize, n: i32): void {
  took(c, area, n);
  afterRecv(c, n);
}

/** A recv's bytes become the connection's input (LINGER discards them). No protocol code. */
function took(c: Conn, area: usize, n: i32): void {
  if (n <= 0) return;
  count(BYTES_IN, <u64>n);
  if (c.state == State.LINGER) return; // discarded: we only wait for the peer's EOF
  touch(c);
  if (area != 0) { c.inBuf = area; c.inStart = 0; c.inEnd = n; } else c.inEnd += n;
}

/** What a recv's result leads to, once took() has run: service, EOF or close. */
function afterRecv(c: Conn, n: i32): void {
  if (n > 0) {
    if (c.state != State.LINGER) service(c);
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
  if (c.state == State.LINGER || !(outPending(c) || c.wantDrain)) { closeNow(c); return; }
  c.state = State.HALF_CLOSED;
  setInterest(c, EPOLLOUT);
}

function onWritable(c: Conn): void {
  if (!flush(c) || outPending(c)) return;
  if (!drainRounds(c) || outPending(c) || c.wantDrain) return;
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
  for (;;) {
    let sentShort = false; // a send already came back short: a second try would only EAGAIN
    while (c.state == State.READING && c.inEnd > c.inStart && !c.wantDrain) {
      const used = callData(slot, c.inBuf + <usize>c.inStart, c.inEnd - c.inStart);
      c.inStart += used;
      if (c.inStart == c.inEnd) dropInput(c);
      if (c.failed) { closeNow(c); return; }
      if (used == 0) break;
      if (deferring && c.inEnd == c.inStart) break; // all input used: the flush below may wait
      if (!flush(c)) return;
      if (outPending(c)) { sentShort = true; break; }
    }
    if (sentShort) break;
    // The usual end of a request: the output joins the dispatch's send_many, and the rest of
    // this function (serviceDone) runs once its result is in.
    if (deferring && !c.wantDrain && outPending(c) && sendCount < IO_MAX) { planSend(c, slot); return; }
    if (!flush(c)) return;
    const streaming = c.wantDrain;
    if (!drainRounds(c)) return;
    // A stream that finished was holding the rest of the input back: offer it again. (No new
    // bytes may ever arrive to do it: a pipelining client waits for its answers.)
    if (!streaming || c.wantDrain || outPending(c) || c.state != State.READING || c.inEnd == c.inStart) break;
  }
  serviceDone(c);
}

/** The end of service(): input left in the shared area moves to a buffer of its own, then the
 *  state and interest settle. */
function serviceDone(c: Conn): void {
  if (borrowed(c.inBuf)) {
    if (c.state == State.CLOSING) dropInput(c);
    else if (!adoptInput(c)) return;
  }
  settle(c);
}

/** While the protocol asked for room (connWantDrain) and the output is empty, lets it write
 *  more, within the event's drain budget. False when the connection was closed. */
function drainRounds(c: Conn): bool {
  const slot = slotOf(c);
  while (drainBudget > 0 && c.wantDrain && !outPending(c)) {
    drainBudget--;
    c.wantDrain = false;
    callDrain(slot);
    if (c.failed) { closeNow(c); return false; }
    if (!flush(c)) return false;
  }
  return true;
}

/** Moves input left in the shared receive buffer into a pooled buffer of the connection's own. */
function adoptInput(c: Conn): bool {
  const len = c.inEnd - c.inStart;
  const buf = acquire();
  if (buf == 0) { closeNow(c); return false; }
  memory.copy(buf, c.inBuf + <usize>c.inStart, <usize>len);
  c.inBuf = buf; c.inStart = 0; c.inEnd = len;
  return true;
}

/** Sends pending output once. False when the connection was closed by a send error. */
function flush(c: Conn): bool {
  const len = c.outEnd - c.outStart;
  if (len == 0) return true;
  return sent(c, wl_send(c.handle, c.outBuf + <usize>c.outStart, len));
}

/** Takes the result `n` of a send of the pending output. False when it closed the connection. */
function sent(c: Conn, n: i32): bool {
  if (n > 0) {
    count(BYTES_OUT, <u64>n);
    touch(c);
    c.outStart += n;
    if (c.outStart == c.outEnd) {
      release(c.outBuf);
      c.outBuf = 0; c.outStart = 0; c.outEnd = 0;
      if (c.timerMs > 0 && !c.wantDrain) { c.timerAt = nowMs + c.timerMs; armAt(c.timerAt); }
    }
    return true;
  }
  if (n == 0 || n == -EAGAIN) return true;
  closeNow(c);
  return false;
}

/** After I/O: pick the next state from what is owed, and the interest that state needs. */
function settle(c: Conn): void {
  const owed = outPending(c) || c.wantDrain;
  switch (c.state) {
    case State.READING:
      if (owed) { c.state = State.WRITING; setInterest(c, EPOLLOUT); }
      else if (draining && c.inEnd == c.inStart) startLinger(c);
      else setInterest(c, EPOLLIN | EPOLLRDHUP);
      break;
    case State.CLOSING:
      if (owed) setInterest(c, EPOLLOUT); else startLinger(c);
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
  c.idleAt = 0;
  c.timerMs = 0;
  c.timerAt = nowMs + LINGER_MS;
  armAt(c.timerAt);
  if (wl_shutdown_handle(c.handle, 1) < 0) { closeNow(c); return; }
  setInterest(c, EPOLLIN | EPOLLRDHUP);
}

/** Runs the deadlines that have passed. Returns ms until the next one, or -1 for none. */
export function sweepTimers(now: f64): f64 {
  if (now >= nextSweepAt) {
    nextSweepAt = Infinity;
    let next: f64 = Infinity;
    for (let i = 0; i < highWater; i++) {
      const c = conn(i);
      if (c.state == State.FREE) continue;
      if (c.timerAt > 0 && c.timerAt <= now) {
        serving = i;
        expire(c);
        serving = -1;
      }
      if (c.state == State.FREE) continue;
      if (c.idleAt > 0 && c.idleAt <= now) { count(TIMEOUTS); closeNow(c); continue; }
      if (c.timerAt > 0 && c.timerAt < next) next = c.timerAt;
      if (c.idleAt > 0 && c.idleAt < next) next = c.idleAt;
    }
    if (next < nextSweepAt) nextSweepAt = next;
    if (nextSweepAt < now + SWEEP_MIN_MS) nextSweepAt = now + SWEEP_MIN_MS;
  }
  return nextSweepAt == Infinity ? -1 : nextSweepAt - now;
}

/** A protocol or LINGER deadline passed. */
function expire(c: Conn): void {
  c.timerAt = 0;
  if (c.state == State.LINGER) { closeNow(c); return; }
  if (outPending(c) || c.wantDrain) return; // suspended: flush() re-counts it once all is sent
  count(TIMEOUTS);
  drainBudget = DRAIN_BUDGET;
  callTimeout(slotOf(c));
  if (c.state != State.CLOSING) { closeNow(c); return; }
  if (flush(c) && drainRounds(c)) settle(c); // the protocol answered and ended: send it
}

/** Starts a graceful drain: idle connections linger-close now, busy ones once idle. */
export function connDrainAll(): void {
  draining = true;
  for (let i = 0; i < highWater; i++) {
    const c = conn(i);
    if (c.state == State.READING) settle(c);
  }
}

// ---- Batched I/O: one recv_many and one send_many per wl_dispatch (docs/ABI.md) ----
//
// While wl_dispatch goes through its events, a readable connection's recv is only planned: a
// record (handle, where, room) is added. connBatchRun then makes every planned recv in one
// hostcall, services each connection with its result, and collects the output each one left
// pending at the usual end of a request into one send_many; each connection's service
// finishes (serviceDone) with its send's result. Order within a connection is unchanged; only
// connections are no longer interleaved with each other. A connection without input of its
// own receives into RECV_AREA, where the host packs the recvs; one the area has no full
// BUF_SIZE left for gets -EAGAIN and is reported readable again by the next epoll_wait.

/** Records per batch: at most one recv per event (loop.ts EVENTS_CAP), one send per recv. */
const IO_MAX: i32 = 256;
const IO_RECORD: usize = 16; // i32 handle, u32 buf, u32 len, i32 result
const recvRecords: usize = memory.data(IO_MAX * <i32>IO_RECORD, 16);
const sendRecords: usize = memory.data(IO_MAX * <i32>IO_RECORD, 16);
const recvSlots: usize = memory.data(IO_MAX * 4, 4);
const sendSlots: usize = memory.data(IO_MAX * 4, 4);
let recvCount: i32 = 0;
let sendCount: i32 = 0;
let deferring = false; // connBatchRun is servicing recv results: sends may join the batch

function record(records: usize, slots: usize, i: i32, handle: i32, buf: usize, len: i32, slot: u32): void {
  const rec = records + <usize>i * IO_RECORD;
  store<i32>(rec, handle);
  store<u32>(rec, <u32>buf, 4);
  store<i32>(rec, len, 8);
  store<u32>(slots + (<usize>i << 2), slot);
}

/** Plans the recv of a readable connection: onto the end of its own input if it holds some,
 *  else into the shared area (buf 0). */
function planRecv(c: Conn, slot: u32): void {
  if (c.planned) return; // a repeated event: the recv already planned serves it
  if (recvCount == IO_MAX) connBatchRun();
  let at: usize = 0;
  let room = BUF_SIZE;
  if (c.inBuf != 0) {
    compactInput(c);
    at = c.inBuf + <usize>c.inEnd;
    room = BUF_SIZE - c.inEnd;
    // A protocol that let a full buffer through without consuming it cannot make progress.
    if (room == 0) { count(PROTOCOL_ERRORS); closeNow(c); return; }
  }
  c.planned = true;
  record(recvRecords, recvSlots, recvCount++, c.handle, at, room, slot);
}

function planSend(c: Conn, slot: u32): void {
  record(sendRecords, sendSlots, sendCount++, c.handle, c.outBuf + <usize>c.outStart, c.outEnd - c.outStart, slot);
}

/** Every record fails with `rc` (the call as a whole failed: only if the records or the area
 *  were out of memory). */
function failAll(records: usize, n: i32, rc: i32): void {
  if (rc < 0) for (let i = 0; i < n; i++) store<i32>(records + <usize>i * IO_RECORD, rc, 12);
}

/** Makes the `n` planned recvs (results in place). One alone is a plain recv, which costs the
 *  host less. */
function runRecvs(n: i32): void {
  if (n > 1) { failAll(recvRecords, n, wl_recv_many(recvRecords, n, RECV_AREA, RECV_AREA_SIZE)); return; }
  let buf = load<u32>(recvRecords, 4);
  if (buf == 0) { buf = <u32>RECV_AREA; store<u32>(recvRecords, buf, 4); }
  store<i32>(recvRecords, wl_recv(load<i32>(recvRecords), buf, load<i32>(recvRecords, 8)), 12);
}

/** Makes the `n` queued sends (results in place), as runRecvs. */
function runSends(n: i32): void {
  if (n > 1) { failAll(sendRecords, n, wl_send_many(sendRecords, n)); return; }
  store<i32>(sendRecords, wl_send(load<i32>(sendRecords), load<u32>(sendRecords, 4), load<i32>(sendRecords, 8)), 12);
}

/** The connection a record was made for, or null if it has closed since. */
function recordConn(records: usize, slots: usize, i: i32): Conn | null {
  const c = conn(load<u32>(slots + (<usize>i << 2)));
  const rec = records + <usize>i * IO_RECORD;
  return c.state == State.FREE || c.handle != load<i32>(rec) ? null : c;
}

/** Makes the planned recvs, services what they brought, then makes the sends that collected.
 *  Each result is taken into its connection's state before any protocol code runs (took, sent),
 *  so if the protocol traps while one connection is serviced, every other connection's state
 *  already holds what the host read and wrote for it: wl_salvage hands on the right bytes. */
export function connBatchRun(): void {
  const recvs = recvCount;
  recvCount = 0;
  if (recvs > 0) {
    runRecvs(recvs);
    for (let i = 0; i < recvs; i++) {
      const c = recordConn(recvRecords, recvSlots, i);
      if (c === null) continue;
      c.planned = false;
      const at = <usize>load<u32>(recvRecords + <usize>i * IO_RECORD, 4);
      took(c, borrowed(at) ? at : 0, recvResult(i));
    }
    deferring = true;
    for (let i = 0; i < recvs; i++) {
      const c = recordConn(recvRecords, recvSlots, i);
      if (c === null) continue;
      drainBudget = DRAIN_BUDGET;
      serving = <i32>load<u32>(recvSlots + (<usize>i << 2));
      afterRecv(c, recvResult(i));
      serving = -1;
    }
    deferring = false;
  }
  const sends = sendCount;
  sendCount = 0;
  if (sends == 0) return;
  runSends(sends);
  for (let i = 0; i < sends; i++) {
    const c = recordConn(sendRecords, sendSlots, i);
    if (c === null) continue;
    serving = <i32>load<u32>(sendSlots + (<usize>i << 2)); // a failed send closes: onClose runs
    sent(c, load<i32>(sendRecords + <usize>i * IO_RECORD, 12));
    serving = -1;
  }
  for (let i = 0; i < sends; i++) {
    const c = recordConn(sendRecords, sendSlots, i);
    if (c === null) continue; // closed by its send's error
    drainBudget = DRAIN_BUDGET;
    serving = <i32>load<u32>(sendSlots + (<usize>i << 2));
    serviceDone(c);
    serving = -1;
  }
}

// @ts-ignore: decorator
@inline function recvResult(i: i32): i32 { return load<i32>(recvRecords + <usize>i * IO_RECORD, 12); }

// ---- After a trap (docs/ABI.md, wl_salvage) ----

export const enum Salvage { NONE = 0, ADOPT = 1, REPLY = 2, CLOSE = 3, END = -1 }

/** The record wl_salvage describes a connection in: handle, its unread input, the output it is
 *  still owed (i32, then two u32 pointer/length pairs). */
export const SALVAGE_RECORD: usize = memory.data(20, 4);

/** What the host may do with `slot`'s connection after a trap, the record filled in:
 *  ADOPT a connection between protocol units (the host sends the output it is owed, then hands
 *  it with its unread input to a fresh instance through wl_adopt); for the connection whose
 *  code was running, REPLY when the protocol says nothing of its current answer has gone out,
 *  else CLOSE (either way the host sends the output owed, then the trap reply for REPLY, then
 *  it closes); NONE for the rest (the host closes them); END past the last slot ever used.
 *  Runs in a trapped instance, so it reads and never allocates. */
export function connSalvage(slot: i32): i32 {
  if (slot < 0 || slot >= highWater) return Salvage.END;
  const c = conn(slot);
  if (c.state == State.FREE) return Salvage.NONE;
  store<i32>(SALVAGE_RECORD, c.handle);
  salvageRange(4, 0, 0);
  salvageRange(12, c.outBuf + <usize>c.outStart, c.outEnd - c.outStart);
  if (slot == serving) {
    const active = c.state == State.READING || c.state == State.WRITING;
    return active && callSalvage(<u32>slot, true) ? Salvage.REPLY : Salvage.CLOSE;
  }
  const open = c.state == State.READING || c.state == State.WRITING;
  if (!open || c.wantDrain || !callSalvage(<u32>slot, false)) return Salvage.NONE;
  salvageRange(4, c.inBuf + <usize>c.inStart, c.inEnd - c.inStart);
  return Salvage.ADOPT;
}

function salvageRange(at: usize, ptr: usize, len: i32): void {
  store<u32>(SALVAGE_RECORD + at, len > 0 ? <u32>ptr : 0);
  store<u32>(SALVAGE_RECORD + at, len > 0 ? <u32>len : 0, 4);
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

/** Bytes the connection's output can take right now. */
export function connSpace(slot: u32): i32 {
  const c = conn(slot);
  return BUF_SIZE - (c.outEnd - c.outStart);
}

/** Asks for the drain callback (handleDrain) once the output is empty again: for a protocol
 *  with more to write than the output holds. No input is offered to the protocol meanwhile. */
export function connWantDrain(slot: u32): void {
  conn(slot).wantDrain = true;
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

/** Sets the protocol's deadline for the slot, `ms` from now (<= 0 clears it). When it passes,
 *  the protocol's timeout callback runs (handleTimeout). While output is owed the deadline is
 *  suspended; it counts `ms` again from when the output has all been sent. The idle timeout
 *  applies besides. */
export function connSetTimeout(slot: u32, ms: f64): void {
  const c = conn(slot);
  if (c.state == State.LINGER) return;
  c.timerMs = ms > 0 ? ms : 0;
  c.timerAt = ms > 0 ? nowMs + ms : 0;
  if (ms > 0) armAt(c.timerAt);
}

/** The time of the current dispatch, in the host's monotonic milliseconds. */
export function connNow(): f64 { return nowMs; }

/** The size of the connection table: slots are 0 .. maxConnections() - 1. */
export function maxConnections(): i32 { return maxConns; }

/** The host handle behind a slot. Applications have no use for it; test guests use it to
 *  probe the sandbox with raw hostcalls. */
export function connHandle(slot: u32): i32 {
  return conn(slot).handle;
}
