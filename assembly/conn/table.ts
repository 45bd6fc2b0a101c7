// The connection table: one fixed record per slot, allocated once at wl_init, a free list of
// slots, and each connection's buffers. A slot index and its generation form the connection's
// epoll token (token.ts). Nothing here makes a hostcall or runs protocol code.

import { release, RECV_AREA, RECV_AREA_SIZE } from "../pool";
import { nextGen } from "../token";

/** Default size of the connection table (limit `max-connections`); accept pauses while all
 *  slots are taken. */
export const MAX_CONNS: i32 = 16384;

/** The states of machine.ts (docs/DESIGN.md, "The connection state machine"). */
export const enum State {
  FREE = 0,
  READING,
  WRITING,
  HALF_CLOSED,
  CLOSING,
  LINGER,
}

/** Which of the current I/O batches (io.ts) hold a record for a connection. */
export const enum Queued {
  NONE = 0,
  RECV = 1,
  SEND = 2,
}

/** One connection. */
@unmanaged
export class Conn {
  handle: i32;
  gen: u32;
  state: State;
  failed: bool; // a buffer could not be had: close at the next check
  wantDrain: bool; // the protocol has more output to write once there is room
  queued: Queued; // records for it in the current batches (set and cleared in io.ts only)
  drainLeft: i32; // drain callbacks left in its current turn (machine.ts startTurn)
  interest: u32; // the epoll mask last given to watch()
  inBuf: usize; // unparsed input: a pooled buffer, in RECV_AREA while borrowed, or 0
  inStart: i32;
  inEnd: i32;
  outBuf: usize; // unsent output: a pooled buffer or 0
  outStart: i32;
  outEnd: i32;
  idleAt: f64; // closed if no progress by then (0 = no idle timeout)
  timerAt: f64; // the protocol's deadline, or LINGER's (0 = none or suspended)
  timerMs: f64; // the protocol's timeout, re-counted each time the output is all sent
  nextFree: i32; // free-list link while FREE
}

let table: usize = 0;
let maxConns: i32 = MAX_CONNS;
let freeHead: i32 = -1;
let highWater: i32 = 0; // slots below this index have been used at least once

/** The time of the current guest call, in the host's monotonic milliseconds. */
export let nowMs: f64 = 0;
export function setNow(now: f64): void {
  nowMs = now;
}

/** The connection in `slot` (valid for 0 <= slot < maxConnections()). */
// @ts-ignore: decorator
@inline export function conn(slot: u32): Conn {
  return changetype<Conn>(table + <usize>slot * offsetof<Conn>());
}

export function slotOf(c: Conn): u32 {
  return <u32>((changetype<usize>(c) - table) / offsetof<Conn>());
}

/** Allocates the table; called once from wl_init with the limit in force. */
export function tableInit(max: i32): void {
  maxConns = max;
  table = heap.alloc(<usize>maxConns * offsetof<Conn>());
  memory.fill(table, 0, <usize>maxConns * offsetof<Conn>());
  for (let i = 0; i < maxConns; i++) conn(i).gen = 1;
}

/** The size of the connection table: slots are 0 .. maxConnections() - 1. */
export function maxConnections(): i32 {
  return maxConns;
}

/** Slots below this have been used at least once; the others are all FREE. */
export function usedSlots(): i32 {
  return highWater;
}

export function hasFreeSlot(): bool {
  return freeHead >= 0 || highWater < maxConns;
}

/** A free slot, or -1 when the table is full. */
export function takeSlot(): i32 {
  if (freeHead >= 0) {
    const slot = freeHead;
    freeHead = conn(slot).nextFree;
    return slot;
  }
  return highWater < maxConns ? highWater++ : -1;
}

/** Gives the slot of a FREE connection back; its generation moves on, so events still queued
 *  for it are stale. */
export function freeSlot(c: Conn): void {
  c.gen = nextGen(c.gen);
  c.nextFree = freeHead;
  freeHead = <i32>slotOf(c);
}

// ---- Buffers: a connection holds a pooled buffer only while it has input or output ----

// @ts-ignore: decorator
@inline export function outPending(c: Conn): bool {
  return c.outEnd > c.outStart;
}

// @ts-ignore: decorator
@inline export function inPending(c: Conn): bool {
  return c.inEnd > c.inStart;
}

/** True for input still in the shared receive area (not yet moved to a buffer of its own). */
// @ts-ignore: decorator
@inline export function borrowed(buf: usize): bool {
  return buf - RECV_AREA < <usize>RECV_AREA_SIZE;
}

export function dropInput(c: Conn): void {
  if (c.inBuf != 0 && !borrowed(c.inBuf)) release(c.inBuf);
  c.inBuf = 0;
  c.inStart = 0;
  c.inEnd = 0;
}

export function dropOutput(c: Conn): void {
  if (c.outBuf != 0) release(c.outBuf);
  c.outBuf = 0;
  c.outStart = 0;
  c.outEnd = 0;
}

/** Moves unparsed input to the start of its buffer, to make room for the next recv. */
export function compactInput(c: Conn): void {
  if (c.inStart == 0) return;
  memory.copy(c.inBuf, c.inBuf + <usize>c.inStart, <usize>(c.inEnd - c.inStart));
  c.inEnd -= c.inStart;
  c.inStart = 0;
}
