// Deadlines. Every connection has an idle deadline (no read or write progress for idleMs) and
// may have one more, set by its protocol (setTimer) or by LINGER. Following uSockets there is
// no timer heap: a sweep over the table runs when the earliest known deadline passes, no more
// often than every SWEEP_MIN_MS. A protocol deadline never cuts off output in flight: while
// output is owed it is suspended, and it counts again from the moment the output has all been
// sent (restartTimer; a peer that stops reading is the idle timeout's business).

import { count, TIMEOUTS } from "../stats";
import { toClosed } from "./machine";
import { expire, sendQueued } from "./phases";
import { conn, nowMs, usedSlots, Conn, State } from "./table";

/** Default idle timeout (limit `idle-timeout-ms`): a connection that makes no read or write
 *  progress for this long is closed. 0 disables it. */
export const IDLE_MS: f64 = 60_000;

/** How long a connection we have shut down for writing may keep sending before we close it
 *  (nginx calls this lingering_timeout; it protects the last response from an RST). */
export const LINGER_MS: f64 = 2000;

/** Timeouts are checked at most this often: a bound on sweeps, so on the cost of many
 *  connections with slightly different deadlines. It is also their precision. */
const SWEEP_MIN_MS: f64 = 50;

let idleMs: f64 = IDLE_MS;
let nextSweepAt: f64 = Infinity; // no deadline is earlier than this

export function timersInit(idleTimeoutMs: f64): void {
  idleMs = idleTimeoutMs;
}

// @ts-ignore: decorator
@inline function armAt(at: f64): void {
  if (at < nextSweepAt) nextSweepAt = at;
}

/** Read or write progress: the idle deadline moves on. */
// @ts-ignore: decorator
@inline export function touch(c: Conn): void {
  if (idleMs > 0) {
    c.idleAt = nowMs + idleMs;
    armAt(c.idleAt);
  }
}

/** The protocol's deadline, `ms` from now (<= 0 clears it). */
export function setTimer(c: Conn, ms: f64): void {
  c.timerMs = ms > 0 ? ms : 0;
  c.timerAt = ms > 0 ? nowMs + ms : 0;
  if (ms > 0) armAt(c.timerAt);
}

/** The output has all been sent: a protocol deadline suspended meanwhile counts again. */
export function restartTimer(c: Conn): void {
  if (c.timerMs > 0 && !c.wantDrain) {
    c.timerAt = nowMs + c.timerMs;
    armAt(c.timerAt);
  }
}

/** LINGER's deadline replaces both others. */
export function lingerTimer(c: Conn): void {
  c.idleAt = 0;
  c.timerMs = 0;
  c.timerAt = nowMs + LINGER_MS;
  armAt(c.timerAt);
}

export function clearTimers(c: Conn): void {
  c.idleAt = 0;
  c.timerAt = 0;
  c.timerMs = 0;
}

/** The timers phase of wl_dispatch: runs the deadlines that have passed (a protocol's answer
 *  to its timeout goes out in one send batch), then returns ms until the next one, or -1. */
export function runTimers(now: f64): f64 {
  if (now >= nextSweepAt) {
    nextSweepAt = Infinity;
    let next: f64 = Infinity;
    const used = usedSlots();
    for (let i = 0; i < used; i++) {
      const c = conn(i);
      if (c.state == State.FREE) continue;
      if (c.timerAt > 0 && c.timerAt <= now) {
        expire(c); // its answer is sent below; an idle deadline also passed waits for the next sweep
        if (c.state == State.FREE) continue;
      } else if (c.idleAt > 0 && c.idleAt <= now) {
        count(TIMEOUTS);
        toClosed(c);
        continue;
      }
      if (c.timerAt > 0 && c.timerAt < next) next = c.timerAt;
      if (c.idleAt > 0 && c.idleAt < next) next = c.idleAt;
    }
    sendQueued();
    if (next < nextSweepAt) nextSweepAt = next;
    if (nextSweepAt < now + SWEEP_MIN_MS) nextSweepAt = now + SWEEP_MIN_MS;
  }
  return nextSweepAt == Infinity ? -1 : nextSweepAt - now;
}
