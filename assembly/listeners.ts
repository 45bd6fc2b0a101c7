// Listeners: accept, with a budget per event, a back-off after running out of descriptors, and
// a pause while the connection table is full.

import { wl_accept, wl_listener, wl_watch } from "./abi";
import { connOpen } from "./conn/phases";
import { hasFreeSlot, nowMs } from "./conn/table";
import { EPOLLIN } from "./epoll";
import { EAGAIN, ECONNABORTED, EINTR } from "./errno";
import { count, ACCEPT_ERRORS } from "./stats";
import { LISTENER_GEN } from "./token";

/** Most listeners one instance takes. */
const MAX_LISTENERS: i32 = 16;

/** Connections accepted per listener event. A bounded batch keeps a connection storm from
 *  starving the connections already open; level-triggered epoll reports the rest next time. */
const ACCEPT_BUDGET: i32 = 64;

/** How long a listener stays unwatched after EMFILE/ENFILE/ENOBUFS/ENOMEM, so that running out
 *  of descriptors does not spin the CPU on a listener that is always readable. */
const ACCEPT_BACKOFF_MS: f64 = 100;

const enum Listening {
  ACTIVE = 0,
  BACKOFF,
  FULL,
  STOPPED,
}

const listenerHandle = new StaticArray<i32>(MAX_LISTENERS);
const listenerState = new StaticArray<Listening>(MAX_LISTENERS);
let listenerCount: i32 = 0;
let resumeAt: f64 = 0; // when BACKOFF listeners resume; 0 = none waiting
let fullListeners: i32 = 0; // listeners paused because the connection table is full

/** Takes and watches every listener the host gives this instance: 0 or a negative errno. */
export function listenersInit(): i32 {
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

/** An event for listener `i`: accepts up to ACCEPT_BUDGET connections. */
export function onListener(i: u32): void {
  if (i >= <u32>listenerCount || listenerState[i] != Listening.ACTIVE) return;
  const h = listenerHandle[i];
  for (let k = 0; k < ACCEPT_BUDGET; k++) {
    if (!hasFreeSlot()) {
      setListening(i, Listening.FULL);
      return;
    }
    const c = wl_accept(h);
    if (c >= 0) {
      connOpen(c);
      continue;
    }
    if (c == -EAGAIN) return;
    if (c == -ECONNABORTED || c == -EINTR) continue;
    // EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unexpected: back off instead of spinning.
    count(ACCEPT_ERRORS);
    setListening(i, Listening.BACKOFF);
    return;
  }
}

/** wl_shutdown: stop accepting for good. */
export function stopListening(): void {
  for (let i = 0; i < listenerCount; i++) setListening(i, Listening.STOPPED);
}

/** Resumes listeners whose back-off has passed, and those paused for a full table once a slot
 *  is free. Returns ms until the back-off ends, or -1 when none is waiting. */
export function resumeListeners(now: f64): f64 {
  let wait: f64 = -1;
  if (resumeAt > 0) {
    if (now >= resumeAt) {
      resumeAt = 0;
      resumeAll(Listening.BACKOFF);
    } else {
      wait = resumeAt - now;
    }
  }
  if (fullListeners > 0 && hasFreeSlot()) resumeAll(Listening.FULL);
  return wait;
}

function resumeAll(from: Listening): void {
  for (let i = 0; i < listenerCount; i++) {
    if (listenerState[i] == from) setListening(i, Listening.ACTIVE);
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
