// The guest side of the event loop: the ABI exports (docs/ABI.md), listeners and accept, and
// the deadlines the guest asks the host to call it back for.
//
// One wl_dispatch call reads top to bottom:
//   1. each event in the ring: a listener token accepts, a connection token goes to conn.ts
//      (stale tokens are dropped there), where a readable connection's recv is planned; then
//      conn.ts makes the planned recvs in one hostcall, services the connections, and sends
//      their output in another (connBatchRun);
//   2. listeners paused by an accept failure resume when their back-off has passed;
//   3. connection deadlines that passed run (idle, protocol, linger), then the periodic tick;
//   4. the nearest deadline is returned to the host.

import { wl_accept, wl_listener, wl_watch } from "./abi";
import { limit } from "./config";
import { connAdopt, connBatchRun, connDrainAll, connEvent, connInit, connOpen, connSalvage, hasFreeSlot, nowMs, setNow, sweepTimers, IDLE_MS, MAX_CONNS, SALVAGE_RECORD } from "./conn";
import { EPOLLIN, EVENT_SIZE } from "./epoll";
import { EAGAIN, ECONNABORTED, EINTR } from "./errno";
import { poolInit } from "./pool";
import { callInit, callTick, tickInterval, trapReply } from "./protocol";
import { count, ACCEPT_ERRORS, STATS } from "./stats";
import { LISTENER_GEN } from "./token";

/** Events the host may write per wl_dispatch call. 256 is well past what one epoll_wait
 *  returns under the loads we measure, and costs 3 KiB. */
export const EVENTS_CAP: i32 = 256;
const RING: usize = memory.data(EVENTS_CAP * <i32>EVENT_SIZE, 16);

/** Most listeners one instance takes. */
const MAX_LISTENERS: i32 = 16;

/** Connections accepted per listener event. A bounded batch keeps a connection storm from
 *  starving the connections already open; level-triggered epoll reports the rest next time. */
const ACCEPT_BUDGET: i32 = 64;

/** How long a listener stays unwatched after EMFILE/ENFILE/ENOBUFS/ENOMEM, so that running out
 *  of descriptors does not spin the CPU on a listener that is always readable. */
const ACCEPT_BACKOFF_MS: f64 = 100;

const enum Listening { ACTIVE = 0, BACKOFF, FULL, STOPPED }

const listenerHandle = new StaticArray<i32>(MAX_LISTENERS);
const listenerState = new StaticArray<Listening>(MAX_LISTENERS);
let listenerCount: i32 = 0;
let resumeAt: f64 = 0; // when BACKOFF listeners resume; 0 = none waiting
let tickAt: f64 = 0;   // when the protocol's periodic tick runs next; 0 = no tick
let fullListeners: i32 = 0; // listeners paused because the connection table is full

export function wl_abi_version_1(): void {}

/** The largest connection table a guest may ask for (`max-connections`). */
const MAX_CONNS_LIMIT: f64 = 1048576;

export function wl_init(): i32 {
  poolInit();
  const maxConns = <i32>Math.min(Math.max(limit("max-connections", MAX_CONNS), 1), MAX_CONNS_LIMIT);
  connInit(maxConns, limit("idle-timeout-ms", IDLE_MS));
  callInit();
  for (let i = 0; i < MAX_LISTENERS; i++) {
    const h = wl_listener(i);
    if (h < 0) break;
    listenerHandle[i] = h;
    listenerCount = i + 1;
    const rc = wl_watch(h, EPOLLIN, i, LISTENER_GEN);
    if (rc < 0) return rc;
  }
  return 0;
}

export function wl_events_ptr(): usize { return RING; }
export function wl_events_cap(): i32 { return EVENTS_CAP; }
export function wl_stats_ptr(): usize { return STATS; }

export function wl_dispatch(n: i32, now: f64): i32 {
  setNow(now);
  if (n > EVENTS_CAP) n = EVENTS_CAP;
  for (let i = 0; i < n; i++) {
    const rec = RING + <usize>i * EVENT_SIZE;
    const events = load<u32>(rec);
    const lo = load<u32>(rec, 4);
    const hi = load<u32>(rec, 8);
    if (hi == LISTENER_GEN) onListener(lo);
    else connEvent(lo, hi, events);
  }
  connBatchRun();
  return nextDeadline(now);
}

export function wl_shutdown(): void {
  for (let i = 0; i < listenerCount; i++) setListening(i, Listening.STOPPED);
  connDrainAll();
}

// After a trap (docs/ABI.md, "Traps"): the host asks the trapped instance which connections can
// be saved (wl_salvage), sends the trap reply (wl_trap_reply) to the one that caused it, and
// hands the others to a fresh instance (wl_adopt).

/** What the host may do with slot `slot`'s connection (conn.ts connSalvage); -1 past the end. */
export function wl_salvage(slot: i32): i32 { return connSalvage(slot); }

/** Where wl_salvage writes its record: handle (i32), range pointer and length (u32). */
export function wl_salvage_record(): usize { return SALVAGE_RECORD; }

/** The protocol's reply to a request that trapped: a u32 length then the bytes; 0 for none. */
export function wl_trap_reply(): usize { return trapReply(); }

/** Takes a connection handed over from a trapped instance: 0, or -1 when it cannot (the
 *  handle is then closed). */
export function wl_adopt(handle: i32, linger: i32, now: f64): i32 {
  setNow(now);
  if (!hasFreeSlot()) return -1;
  return connAdopt(handle, linger != 0) ? 0 : -1;
}

function onListener(i: u32): void {
  if (i >= <u32>listenerCount || listenerState[i] != Listening.ACTIVE) return;
  const h = listenerHandle[i];
  for (let k = 0; k < ACCEPT_BUDGET; k++) {
    if (!hasFreeSlot()) { setListening(i, Listening.FULL); return; }
    const c = wl_accept(h);
    if (c >= 0) { connOpen(c); continue; }
    if (c == -EAGAIN) return;
    if (c == -ECONNABORTED || c == -EINTR) continue;
    // EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unexpected: back off instead of spinning.
    count(ACCEPT_ERRORS);
    setListening(i, Listening.BACKOFF);
    return;
  }
}

function setListening(i: i32, state: Listening): void {
  const was = listenerState[i];
  if (was == state || was == Listening.STOPPED) return;
  listenerState[i] = state;
  if (was == Listening.FULL) fullListeners--;
  if (state == Listening.FULL) fullListeners++;
  if (state == Listening.BACKOFF) resumeAt = nowMs + ACCEPT_BACKOFF_MS;
  const events: u32 = state == Listening.ACTIVE ? EPOLLIN : 0;
  wl_watch(listenerHandle[i], events, i, LISTENER_GEN);
}

/** Listeners paused for a full table resume once a slot is free again. */
function resumeFullListeners(): void {
  for (let i = 0; i < listenerCount; i++) {
    if (listenerState[i] == Listening.FULL) setListening(i, Listening.ACTIVE);
  }
}

function nextDeadline(now: f64): i32 {
  let next: f64 = sweepTimers(now);
  const every = tickInterval();
  if (every > 0) {
    if (tickAt == 0) tickAt = now + every;
    if (now >= tickAt) { callTick(now); tickAt = now + every; }
    const wait = tickAt - now;
    if (next < 0 || wait < next) next = wait;
  }
  if (resumeAt > 0) {
    if (now >= resumeAt) {
      resumeAt = 0;
      for (let i = 0; i < listenerCount; i++) {
        if (listenerState[i] == Listening.BACKOFF) setListening(i, Listening.ACTIVE);
      }
    } else {
      const wait = resumeAt - now;
      if (next < 0 || wait < next) next = wait;
    }
  }
  if (fullListeners > 0 && hasFreeSlot()) resumeFullListeners();
  return next < 0 ? -1 : <i32>Math.ceil(next);
}
