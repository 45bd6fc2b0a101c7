// The whole API a protocol uses, as libusockets.h is uSockets': install callbacks, then per
// connection (a slot number, 0 .. maxConnections() - 1) write, end, set a timeout, wait for the
// output to drain, and count. The core behind it is assembly/conn/ (docs/DESIGN.md).

import { copyBytes } from "./bytes";
import { acquire, BUF_SIZE } from "./pool";
import { count, PROTOCOL_ERRORS } from "./stats";
import {
  setDrain,
  setInit,
  setProtocol,
  setSalvage,
  setTick,
  setTimeoutFn,
  setTrapReplyAt,
  DataFn,
  InitFn,
  SalvageFn,
  SlotFn,
  TickFn,
} from "./conn/hooks";
import { retiring, toClosing } from "./conn/machine";
import { conn, nowMs, Conn, State } from "./conn/table";
import { setTimer } from "./conn/timers";

export { DataFn, InitFn, SalvageFn, SlotFn, TickFn } from "./conn/hooks";
export { maxConnections } from "./conn/table";
export { count, REQUESTS, TIMEOUTS } from "./stats";

function noSlot(slot: u32): void {}

// ---- Callbacks: call these once, at the app's top level ----

/** `data(slot, ptr, len)` gets every connection's input and returns the bytes it consumed;
 *  `open` and `close` run when a connection takes and leaves a slot. */
export function serve(data: DataFn, open: SlotFn = noSlot, close: SlotFn = noSlot): void {
  setProtocol(data, open, close);
}

/** `fn` runs once in wl_init, after limits are read and the connection table exists: the place
 *  to allocate per-slot state sized maxConnections(). */
export function handleInit(fn: InitFn): void {
  setInit(fn);
}

/** `fn(slot)` runs when the output has drained after connWantDrain: a protocol streaming more
 *  than the output buffer holds continues here. */
export function handleDrain(fn: SlotFn): void {
  setDrain(fn);
}

/** `fn(slot)` runs when the deadline set with connSetTimeout passes. It may write a last
 *  response and call connEnd(slot); if the connection is not ending afterwards, the core
 *  closes it at once. */
export function handleTimeout(fn: SlotFn): void {
  setTimeoutFn(fn);
}

/** `fn` decides which connections survive a trap (SalvageFn). Protocols that keep state per
 *  connection between units must install one, or their connections move without it. */
export function handleSalvage(fn: SalvageFn): void {
  setSalvage(fn);
}

/** The bytes the host sends, after a trap, to the connection that caused it when the
 *  SalvageFn says it may: a u32 length then the bytes, at `at` (0: none). Keep it current. */
export function setTrapReply(at: usize): void {
  setTrapReplyAt(at);
}

/** `fn(now)` runs every `ms` milliseconds (at the granularity of the host's timers). */
export function every(ms: f64, fn: TickFn): void {
  setTick(ms, fn);
}

/** True once a reload replaced this instance (wl_retire): a protocol that takes several units
 *  (requests, frames) from one input must not begin another; it returns what it consumed, and
 *  the connection moves, with the rest, to the new instance. One check per unit. */
// @ts-ignore: decorator
@inline export function instanceRetiring(): bool {
  return retiring;
}

// ---- Per connection ----

/** Appends up to `len` bytes from `ptr` to the connection's output; returns how many fit. The
 *  output is sent when the protocol returns. */
export function connWrite(slot: u32, ptr: usize, len: i32): i32 {
  const c = conn(slot);
  const at = outTail(c, len);
  if (at == 0) return 0; // closed by the core on return
  const n = min(len, BUF_SIZE - c.outEnd);
  copyBytes(at, ptr, n);
  c.outEnd += n;
  return n;
}

/** Where `len` more bytes of output can be formatted in place, or 0 when the output cannot take
 *  them all now (connSpace is less). Nothing counts as written until connWrote: a protocol that
 *  builds a response straight into the output saves the copy connWrite makes. */
export function connReserve(slot: u32, len: i32): usize {
  const c = conn(slot);
  if (BUF_SIZE - (c.outEnd - c.outStart) < len) return 0;
  return outTail(c, len);
}

/** The first `len` bytes at connReserve's address are output now. */
export function connWrote(slot: u32, len: i32): void {
  conn(slot).outEnd += len;
}

/** Copies all `len` bytes from `ptr` to the output, or none when it has no room for them all
 *  now (connReserve + copy + connWrote in one call; a response kept whole, http/response.ts). */
export function connWriteAll(slot: u32, ptr: usize, len: i32): bool {
  const c = conn(slot);
  if (BUF_SIZE - (c.outEnd - c.outStart) < len) return false;
  // The usual output, a buffer with room at its tail, without outTail's call.
  const at =
    c.outBuf != 0 && BUF_SIZE - c.outEnd >= len ? c.outBuf + <usize>c.outEnd : outTail(c, len);
  if (at == 0) return false;
  copyBytes(at, ptr, len);
  c.outEnd += len;
  return true;
}

/** The output's first free byte, with `len` bytes after it when the buffer has room for them
 *  (moving what is waiting to the front if needed); 0 when no buffer could be had. */
function outTail(c: Conn, len: i32): usize {
  if (c.outBuf == 0) {
    c.outBuf = acquire();
    if (c.outBuf == 0) {
      c.failed = true;
      return 0;
    }
  }
  if (BUF_SIZE - c.outEnd < len && c.outStart > 0) {
    memory.copy(c.outBuf, c.outBuf + <usize>c.outStart, <usize>(c.outEnd - c.outStart));
    c.outEnd -= c.outStart;
    c.outStart = 0;
  }
  return c.outBuf + <usize>c.outEnd;
}

/** Bytes the connection's output can take right now. */
export function connSpace(slot: u32): i32 {
  const c = conn(slot);
  return BUF_SIZE - (c.outEnd - c.outStart);
}

/** Pauses reading until the output has drained, then calls the drain callback (handleDrain):
 *  for a protocol with more to write than the output holds. */
export function connWantDrain(slot: u32): void {
  conn(slot).wantDrain = true;
}

/** Ends the connection once its output is sent; input after this point is ignored. */
export function connEnd(slot: u32): void {
  toClosing(conn(slot));
}

/** Like connEnd, for malformed input: also counted in protocol_errors. */
export function connFail(slot: u32): void {
  count(PROTOCOL_ERRORS);
  connEnd(slot);
}

/** Sets the protocol's deadline for the slot, `ms` from now (<= 0 clears it). When it passes,
 *  the timeout callback runs (handleTimeout). While output is owed the deadline is suspended;
 *  it counts `ms` again from when the output has all been sent. The idle timeout applies
 *  besides. */
export function connSetTimeout(slot: u32, ms: f64): void {
  const c = conn(slot);
  if (c.state != State.LINGER) setTimer(c, ms);
}

/** The time of the current dispatch, in the host's monotonic milliseconds. */
export function connNow(): f64 {
  return nowMs;
}
