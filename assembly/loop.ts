// The guest side of the event loop: the ABI exports (docs/ABI.md). One wl_dispatch reads top
// to bottom, one phase after another, like libuv's uv_run:
//
//   1. events     each record of the ring: a listener accepts (listeners.ts), a connection
//                 (conn/phases.ts connEvent) closes on an error or queues its recv / its send
//   2. receive    one recv_many for every queued recv; each result is taken into its
//                 connection's state (conn/io.ts receiveBatch)
//   3. serve      the protocol runs over the input; answers are queued (serveReceived)
//   4. send       one send_many; results taken, then each turn settles: state and interest
//                 (no epoll_ctl in steady state), drain rounds for a stream (sendQueued)
//   5. timers     deadlines that passed (conn/timers.ts), the protocol's periodic tick,
//                 listeners' back-off
//   6. deadline   the nearest one is returned to the host

import { limit } from "./config";
import { callInit, callTick, tickMs, trapReplyAt } from "./conn/hooks";
import { receiveBatch } from "./conn/io";
import { drainAll, setRetiring } from "./conn/machine";
import { connAdopt, connEvent, sendQueued, serveHeldBack, serveReceived } from "./conn/phases";
import { connSalvage, SALVAGE_RECORD } from "./conn/salvage";
import { hasFreeSlot, setNow, tableInit, MAX_CONNS } from "./conn/table";
import { runTimers, timersInit, IDLE_MS } from "./conn/timers";
import { listenersInit, onListener, resumeListeners, stopListening } from "./listeners";
import { EVENT_SIZE } from "./epoll";
import { poolInit } from "./pool";
import { STATS } from "./stats";
import { LISTENER_GEN } from "./token";

/** Events the host may write per wl_dispatch call. 256 is well past what one epoll_wait
 *  returns under the loads we measure, and costs 3 KiB. At most conn/io.ts IO_MAX. */
export const EVENTS_CAP: i32 = 256;
const RING: usize = memory.data(EVENTS_CAP * <i32>EVENT_SIZE, 16);

/** The largest connection table a guest may ask for (`max-connections`). */
const MAX_CONNS_LIMIT: f64 = 1048576; // host/abi.ts MAX_SLOTS

let tickAt: f64 = 0; // when the protocol's periodic tick runs next; 0 = no tick

export function wl_abi_version_1(): void {}

export function wl_init(): i32 {
  poolInit();
  tableInit(<i32>Math.min(Math.max(limit("max-connections", MAX_CONNS), 1), MAX_CONNS_LIMIT));
  timersInit(limit("idle-timeout-ms", IDLE_MS));
  callInit();
  return listenersInit();
}

export function wl_events_ptr(): usize {
  return RING;
}
export function wl_events_cap(): i32 {
  return EVENTS_CAP;
}
export function wl_stats_ptr(): usize {
  return STATS;
}

export function wl_dispatch(n: i32, now: f64): i32 {
  setNow(now);
  takeEvents(min(n, EVENTS_CAP));
  serveReceived(receiveBatch());
  sendQueued();
  return timers(now);
}

export function wl_shutdown(): void {
  stopListening();
  serveHeldBack();
  drainAll();
}

/** A reload replaced this instance (docs/ABI.md, wl_retire): no request begins here any more;
 *  each connection stops at its next boundary and the host moves it with its unread input. */
export function wl_retire(): void {
  setRetiring(true);
}

// After a trap (docs/ABI.md, "Traps"): the host asks the trapped instance which connections can
// be saved (wl_salvage), sends the trap reply (wl_trap_reply) to the one that caused it, and
// hands the others to a fresh instance (wl_adopt).

/** What the host may do with slot `slot`'s connection (conn/salvage.ts); -1 past the end. */
export function wl_salvage(slot: i32): i32 {
  return connSalvage(slot);
}

/** Where wl_salvage writes its record: handle (i32), range pointer and length (u32). */
export function wl_salvage_record(): usize {
  return SALVAGE_RECORD;
}

/** The protocol's reply to a request that trapped: a u32 length then the bytes; 0 for none. */
export function wl_trap_reply(): usize {
  return trapReplyAt;
}

/** Takes a connection handed over from a trapped instance: 0, or -1 when it cannot (the
 *  handle is then closed). */
export function wl_adopt(handle: i32, linger: i32, now: f64): i32 {
  setNow(now);
  if (!hasFreeSlot()) return -1;
  return connAdopt(handle, linger != 0) ? 0 : -1;
}

/** Phase 1: the `n` records the host wrote at the start of the ring. */
function takeEvents(n: i32): void {
  for (let i = 0; i < n; i++) {
    const rec = RING + <usize>i * EVENT_SIZE;
    const events = load<u32>(rec);
    const lo = load<u32>(rec, 4);
    const hi = load<u32>(rec, 8);
    if (hi == LISTENER_GEN) onListener(lo);
    else connEvent(lo, hi, events);
  }
}

/** Phases 5 and 6: connection deadlines, the periodic tick, listeners' back-off; returns ms
 *  until the nearest, or -1 for none. */
function timers(now: f64): i32 {
  let next: f64 = runTimers(now);
  const every = tickMs;
  if (every > 0) {
    if (tickAt == 0) tickAt = now + every;
    if (now >= tickAt) {
      callTick(now);
      tickAt = now + every;
    }
    next = nearer(next, tickAt - now);
  }
  next = nearer(next, resumeListeners(now));
  return next < 0 ? -1 : <i32>Math.ceil(next);
}

/** The nearer of two waits, either of which may be -1 (none). */
function nearer(a: f64, b: f64): f64 {
  if (a < 0) return b;
  return b < 0 || a < b ? a : b;
}
