// The connection state machine. Every change of a connection's state is made here, by a
// function named after the state it leads to; phases.ts decides when, from I/O results and
// what the protocol did.
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
// Interest policy (level-triggered; docs/DESIGN.md): a connection is registered once at accept
// with EPOLLIN|EPOLLRDHUP and keeps that interest while it owes no output, so a keep-alive
// request costs no epoll_ctl. When a send is short it switches to EPOLLOUT alone: it stops
// reading until the peer has taken what it owes (backpressure), then switches back.

import { wl_close, wl_shutdown_handle, wl_watch } from "../abi";
import { EPOLLIN, EPOLLOUT, EPOLLRDHUP } from "../epoll";
import { count, uncount, CLOSED, OPEN } from "../stats";
import { callClose, callOpen } from "./hooks";
import {
  conn,
  dropInput,
  dropOutput,
  freeSlot,
  inPending,
  outPending,
  slotOf,
  takeSlot,
  usedSlots,
  Conn,
  Queued,
  State,
} from "./table";
import { clearTimers, lingerTimer, touch } from "./timers";

const READ_INTEREST: u32 = EPOLLIN | EPOLLRDHUP;

let draining = false; // wl_shutdown was called: connections close once they are idle

/** wl_retire was called: a reload replaced this instance. No protocol unit may begin here any
 *  more; a connection stops at its next boundary with its unread input (phases.ts serveInput,
 *  and protocols that take several units per call check `instanceRetiring` in socket.ts), and
 *  the host moves it to the new instance. wl_shutdown ends it: nothing moves then. */
export let retiring = false;
export function setRetiring(on: bool): void {
  retiring = on;
}

/** A new connection in READING, watched for input, or null (the handle is then closed) when
 *  no slot is free or it cannot be watched. The protocol's open callback has run. */
export function openReading(handle: i32): Conn | null {
  const slot = takeSlot();
  if (slot < 0) {
    wl_close(handle);
    return null;
  }
  const c = conn(slot);
  c.handle = handle;
  c.state = State.READING;
  c.failed = false;
  c.wantDrain = false;
  c.queued = Queued.NONE;
  c.timerAt = 0;
  c.timerMs = 0;
  c.interest = READ_INTEREST;
  if (wl_watch(handle, c.interest, slot, c.gen) < 0) {
    wl_close(handle);
    c.state = State.FREE;
    freeSlot(c);
    return null;
  }
  touch(c);
  count(OPEN);
  callOpen(slot);
  return c;
}

/** Closed at once (the slot is FREE): buffers go back to the pool, the slot's generation moves
 *  on so events still queued for it are stale. */
export function toClosed(c: Conn): void {
  const slot = slotOf(c);
  wl_close(c.handle);
  dropInput(c);
  dropOutput(c);
  clearTimers(c);
  callClose(slot);
  c.state = State.FREE;
  freeSlot(c);
  count(CLOSED);
  uncount(OPEN);
}

/** WRITING -> READING: everything owed has been sent. */
export function toReading(c: Conn): void {
  c.state = State.READING;
}

/** READING -> WRITING: a send came back short, or the protocol streams; reading pauses until
 *  the peer has taken what is owed (backpressure). */
function toWriting(c: Conn): void {
  c.state = State.WRITING;
  setInterest(c, EPOLLOUT);
}

/** The protocol ended the connection (connEnd): it closes once its output is sent. */
export function toClosing(c: Conn): void {
  if (c.state == State.READING || c.state == State.WRITING) c.state = State.CLOSING;
}

/** The peer sent EOF: an unfinished request can never complete now. What is owed is still
 *  sent (HALF_CLOSED), else the connection closes. */
export function toHalfClosedOrClosed(c: Conn): void {
  dropInput(c);
  if (c.state == State.LINGER || !(outPending(c) || c.wantDrain)) {
    toClosed(c);
    return;
  }
  c.state = State.HALF_CLOSED;
  setInterest(c, EPOLLOUT);
}

/** Shuts our write side (the peer sees EOF after everything we sent) and discards input until
 *  the peer's EOF or LINGER_MS, so that closing never turns into an RST that destroys the
 *  last response in flight. */
export function toLinger(c: Conn): void {
  dropInput(c);
  c.state = State.LINGER;
  lingerTimer(c);
  if (wl_shutdown_handle(c.handle, 1) < 0) {
    toClosed(c);
    return;
  }
  setInterest(c, READ_INTEREST);
}

/** After I/O: the next state from what is owed (stays, or WRITING, or LINGER), and the
 *  interest that state needs. */
export function settle(c: Conn): void {
  const owed = outPending(c) || c.wantDrain;
  switch (c.state) {
    case State.READING:
      if (owed) toWriting(c);
      else settleIdleReading(c);
      break;
    case State.CLOSING:
      if (owed) setInterest(c, EPOLLOUT);
      else toLinger(c);
      break;
    case State.WRITING:
    case State.HALF_CLOSED:
      setInterest(c, EPOLLOUT);
      break;
    default:
      unreachable();
  }
}

/** settle() of a READING connection that owes nothing (every keep-alive turn's end, which
 *  afterSend reaches knowing that): it reads on, or lingers once draining with no input. */
// @ts-ignore: decorator
@inline export function settleIdleReading(c: Conn): void {
  if (draining && !inPending(c)) toLinger(c);
  else setInterest(c, READ_INTEREST);
}

/** The interest a state needs: usually the one it has (no epoll_ctl, and no call). */
// @ts-ignore: decorator
@inline function setInterest(c: Conn, events: u32): void {
  if (c.interest != events) watchInterest(c, events);
}

function watchInterest(c: Conn, events: u32): void {
  c.interest = events;
  if (wl_watch(c.handle, events, slotOf(c), c.gen) < 0) toClosed(c);
}

/** Starts a graceful drain: idle connections linger-close now, busy ones once idle. */
export function drainAll(): void {
  draining = true;
  const used = usedSlots();
  for (let i = 0; i < used; i++) {
    const c = conn(i);
    if (c.state == State.READING) settle(c);
  }
}
