// A hostile guest written without the SDK, to test what the host enforces on its own:
//  - on every listener event it calls accept 64 times, whatever the answers, and it never
//    closes, watches or reads a connection (a guest that ignores max-connections and EAGAIN);
//    its `requests` counter counts wl_dispatch calls, and held(i) is the i-th handle it got;
//  - tests call its exports directly to drive single hostcalls: accept_at/close_at make them
//    at the bottom of `depth` nested calls (to reach the JS stack limit), and limit_of,
//    send_text, accept_once and close_handle make one call each.
import { wl_accept, wl_close, wl_limit, wl_listener, wl_send, wl_watch } from "../../assembly/abi";
import { EPOLLIN } from "../../assembly/epoll";

const STATS = memory.data(80, 8);
const RING = memory.data(64 * 12, 16);
const SCRATCH = memory.data(256, 16);
const ACCEPT_TRIES = 64;

const HELD_MAX = 4096;
const held_handles = new StaticArray<i32>(HELD_MAX);
let held_count: i32 = 0;
let frames: i32 = 0; // touched after every nested call, so no frame can be optimised away

export function wl_abi_version_1(): void {}

export function wl_init(): i32 {
  for (let i = 0; i < 16; i++) {
    const h = wl_listener(i);
    if (h < 0) break;
    wl_watch(h, EPOLLIN, i, 0);
  }
  return 0;
}

export function wl_events_ptr(): usize {
  return RING;
}
export function wl_events_cap(): i32 {
  return 64;
}
export function wl_stats_ptr(): usize {
  return STATS;
}
export function wl_shutdown(): void {}

export function wl_dispatch(n: i32, now: f64): i32 {
  store<u64>(STATS + 24, load<u64>(STATS + 24) + 1); // requests: one per dispatch
  for (let i = 0; i < n; i++) {
    const h = wl_listener(load<u32>(RING + <usize>i * 12, 4));
    for (let k = 0; k < ACCEPT_TRIES; k++) accept_once(h);
  }
  return -1;
}

/** accept on `listener`, counted in the stats when it gives a handle. */
export function accept_once(listener: i32): i32 {
  const c = wl_accept(listener);
  if (c >= 0) {
    if (held_count < HELD_MAX) held_handles[held_count++] = c;
    store<u64>(STATS, load<u64>(STATS) + 1); // accepted
    store<u64>(STATS + 16, load<u64>(STATS + 16) + 1); // open (never goes down)
  }
  return c;
}

export function close_handle(handle: i32): i32 {
  return wl_close(handle);
}

/** The i-th handle accept gave (in order), or -1. */
export function held(i: i32): i32 {
  return i >= 0 && i < held_count ? held_handles[i] : -1;
}

/** Where tests write bytes for limit_of and send_text. */
export function scratch(): usize {
  return SCRATCH;
}

export function limit_of(len: i32): f64 {
  return wl_limit(SCRATCH, len);
}

export function send_text(handle: i32, len: i32): i32 {
  return wl_send(handle, SCRATCH, len);
}

/** accept at the bottom of `depth` nested calls. */
export function accept_at(depth: i32, listener: i32): i32 {
  if (depth <= 0) return wl_accept(listener);
  const r = accept_at(depth - 1, listener);
  frames++;
  return r;
}

/** close at the bottom of `depth` nested calls. */
export function close_at(depth: i32, handle: i32): i32 {
  if (depth <= 0) return wl_close(handle);
  const r = close_at(depth - 1, handle);
  frames++;
  return r;
}
