// What the core does in each phase of a guest call (loop.ts wl_dispatch, wl_adopt): the
// events phase queues I/O (connEvent), the serve phase runs the protocol over what one
// recv_many brought (serveReceived), the send phase makes one send_many and carries each
// connection's turn on from its result (sendQueued). machine.ts makes the state changes.
//
// A connection's turn: its event (or deadline, or adoption) starts it with a fresh drain
// budget; its recv result is taken, the protocol consumes its input and writes its answer;
// the answer goes out with the send batch; then the turn ends in a settled state (afterSend).

import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from "../epoll";
import { EAGAIN } from "../errno";
import { acquire } from "../pool";
import { count, ACCEPTED, PROTOCOL_ERRORS, TIMEOUTS } from "../stats";
import { callData, callDrain, callSalvage, callTimeout } from "./hooks";
import {
  hasQueuedSends,
  queueRecv,
  queueSend,
  receiveBatch,
  receivedConn,
  receivedResult,
  receivedSlot,
  sendBatch,
  sendFailed,
  sendOne,
  takeSentBatch,
  turnConn,
  turnSlot,
  turns,
} from "./io";
import {
  retiring,
  setRetiring,
  toClosed,
  openReading,
  settle,
  settleIdleReading,
  toHalfClosedOrClosed,
  toLinger,
  toReading,
} from "./machine";
import {
  borrowed,
  conn,
  dropInput,
  inPending,
  outPending,
  slotOf,
  usedSlots,
  Conn,
  State,
} from "./table";

/** Rounds of drain callbacks per turn for a protocol streaming output, so one large response
 *  (or a pipeline of them) cannot starve the other connections (16 x 64 KiB = 1 MiB per turn).
 *  A connection that still wants to write waits in WRITING for its next EPOLLOUT. */
const DRAIN_BUDGET: i32 = 16;

// @ts-ignore: decorator
@inline function startTurn(c: Conn): void {
  c.drainLeft = DRAIN_BUDGET;
}

/** Takes an accepted handle. False (the handle is closed) when no slot is free or the handle
 *  cannot be watched. */
export function connOpen(handle: i32): bool {
  if (openReading(handle) === null) return false;
  count(ACCEPTED);
  return true;
}

/** Takes a connection a trapped instance handed over (wl_adopt) and reads at once: epoll
 *  cannot report the input the host carries over for it, which comes first from the host's
 *  recv_many. `linger`: the host has answered it and it only waits to close. Not counted as
 *  accepted (the instance that accepted it did). */
export function connAdopt(handle: i32, linger: bool): bool {
  const c = openReading(handle);
  if (c === null) return false;
  if (linger) {
    toLinger(c);
    return true;
  }
  startTurn(c);
  queueRecv(c, slotOf(c));
  serveReceived(receiveBatch());
  sendQueued();
  return true;
}

/** The events phase, for one connection event: stale events (a free slot or an older
 *  generation) are dropped; errors close; a writable connection joins the send batch, a
 *  readable one the recv batch. */
export function connEvent(slot: u32, gen: u32, events: u32): void {
  if (slot >= <u32>usedSlots()) return;
  const c = conn(slot);
  if (c.state == State.FREE || c.gen != gen) return;
  startTurn(c);
  if (events & (EPOLLERR | EPOLLHUP)) {
    toClosed(c);
    return;
  }
  if (events & EPOLLOUT) answerLater(c, slot);
  if ((events & (EPOLLIN | EPOLLRDHUP)) == 0) return;
  if (c.state != State.READING && c.state != State.LINGER) return;
  // A protocol that let a full buffer through without consuming it cannot make progress.
  if (!queueRecv(c, slot)) {
    count(PROTOCOL_ERRORS);
    toClosed(c);
  }
}

/** The serve phase: the `n` recv results (already in connection state) go to the protocol. */
export function serveReceived(n: i32): void {
  for (let i = 0; i < n; i++) {
    const c = receivedConn(i);
    if (c === null) continue;
    const r = receivedResult(i);
    if (r > 0) {
      if (c.state != State.LINGER) serveInput(c, receivedSlot(i));
    } else if (r == 0) {
      toHalfClosedOrClosed(c);
    } else if (r != -EAGAIN) {
      toClosed(c);
    }
  }
}

/** The send phase: one send_many for the connections queued, every result taken into state
 *  before any protocol code runs, then each one's turn goes on. A turn that queues again (a
 *  connection that may read again, or streams) is sent in a further round. */
export function sendQueued(): void {
  while (hasQueuedSends()) {
    const n = sendBatch();
    if (takeSentBatch(n)) {
      for (let i = 0; i < n; i++) {
        const c = sendFailed(i);
        if (c !== null) toClosed(c); // onClose runs
      }
    }
    const t = turns();
    for (let k = 0; k < t; k++) {
      const c = turnConn(k);
      if (c !== null) afterSend(c, turnSlot(k));
    }
  }
}

/** Runs the protocol over buffered input until it is used up, the protocol needs more bytes,
 *  or the peer stops taking output. The answer joins the send batch. */
function serveInput(c: Conn, slot: u32): void {
  while (c.state == State.READING && inPending(c) && !c.wantDrain) {
    if (retiring && callSalvage(slot, false)) break; // between units: the host moves it
    const used = callData(slot, c.inBuf + <usize>c.inStart, c.inEnd - c.inStart);
    c.inStart += used;
    if (!inPending(c)) dropInput(c);
    if (c.failed) {
      toClosed(c);
      return;
    }
    if (used == 0 || !inPending(c)) break;
    // Part of the input is used: the output makes room before the protocol takes more.
    if (!sendOne(c)) {
      toClosed(c);
      return;
    }
    if (outPending(c)) {
      afterSend(c, slot);
      return;
    } // the peer is slow: wait for EPOLLOUT
  }
  // answerLater, written out: this is every request's path.
  if (!outPending(c)) afterSend(c, slot);
  else if (!queueSend(c, slot)) answerNow(c, slot);
}

/** wl_shutdown of a retiring instance: nothing moves any more, so the requests its connections
 *  held back at a boundary (machine.ts `retiring`) are served here after all. */
export function serveHeldBack(): void {
  if (!retiring) return;
  setRetiring(false);
  const used = usedSlots();
  for (let i = 0; i < used; i++) {
    const c = conn(i);
    if (c.state != State.READING || !inPending(c)) continue;
    startTurn(c);
    serveInput(c, <u32>i);
  }
  sendQueued();
}

/** Queues the connection's output for the send batch (a batch of one if it is full). */
function answerLater(c: Conn, slot: u32): void {
  if (!queueSend(c, slot)) answerNow(c, slot);
}

/** The send batch is full: a batch of one now. */
function answerNow(c: Conn, slot: u32): void {
  if (sendOne(c)) afterSend(c, slot);
  else toClosed(c);
}

/** The rest of a turn once the connection's output has been sent, or what of it the peer
 *  took: drain rounds for a stream, then the state that follows. */
function afterSend(c: Conn, slot: u32): void {
  if (!keepInput(c)) return;
  if (outPending(c)) {
    settle(c);
    return;
  } // short: wait for EPOLLOUT
  const rounds = c.wantDrain ? drainRounds(c, slot) : 0;
  if (rounds < 0) return;
  if (outPending(c) || c.wantDrain) {
    settle(c);
    return;
  }
  switch (c.state) {
    case State.WRITING:
      toReading(c);
      serveInput(c, slot);
      break;
    case State.HALF_CLOSED:
      toClosed(c);
      break;
    case State.CLOSING:
      toLinger(c);
      break;
    case State.READING:
      // A stream that finished was holding the rest of the input back: offer it again. (No new
      // bytes may ever arrive to do it: a pipelining client waits for its answers.)
      if (rounds > 0 && inPending(c)) serveInput(c, slot);
      else settleIdleReading(c); // settle(c), knowing nothing is owed (checked above)
      break;
    default:
      break; // LINGER: nothing is owed
  }
}

/** While the protocol asked for room (connWantDrain) and the output is empty, lets it write
 *  more, each round sent at once, within the turn's budget. Returns the rounds run, or -1
 *  when the connection was closed. */
function drainRounds(c: Conn, slot: u32): i32 {
  let rounds = 0;
  while (c.drainLeft > 0 && c.wantDrain && !outPending(c)) {
    c.drainLeft--;
    c.wantDrain = false;
    rounds++;
    callDrain(slot);
    if (c.failed || !sendOne(c)) {
      toClosed(c);
      return -1;
    }
  }
  return rounds;
}

/** Input left in the shared receive area moves to a pooled buffer of the connection's own
 *  before the area is used again (an ending connection drops it). False when no buffer could
 *  be had: the connection is closed. */
function keepInput(c: Conn): bool {
  if (!borrowed(c.inBuf)) return true;
  if (c.state == State.CLOSING) {
    dropInput(c);
    return true;
  }
  const len = c.inEnd - c.inStart;
  const buf = acquire();
  if (buf == 0) {
    toClosed(c);
    return false;
  }
  memory.copy(buf, c.inBuf + <usize>c.inStart, <usize>len);
  c.inBuf = buf;
  c.inStart = 0;
  c.inEnd = len;
  return true;
}

/** A protocol or LINGER deadline passed (timers.ts). The protocol's answer to its timeout
 *  joins the timers phase's send batch. */
export function expire(c: Conn): void {
  c.timerAt = 0;
  if (c.state == State.LINGER) {
    toClosed(c);
    return;
  }
  if (outPending(c) || c.wantDrain) return; // suspended: restartTimer re-counts it once all is sent
  count(TIMEOUTS);
  startTurn(c);
  const slot = slotOf(c);
  callTimeout(slot);
  if (c.state != State.CLOSING) {
    toClosed(c);
    return;
  }
  answerLater(c, slot);
}
