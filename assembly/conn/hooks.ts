// The protocol's callbacks: plain function references installed once by the app at its top
// level (through socket.ts). AssemblyScript has no closures, so these are functions, not
// objects; each costs one call_indirect. Every call into protocol code goes through here,
// which records whose code is running: after a trap that connection is the one that caused it
// (salvage.ts).

/** Input bytes [ptr, ptr+len) arrived (together with any not consumed before). Returns how
 *  many were consumed, 0..len; the rest is offered again, with more, next time. */
export type DataFn = (slot: u32, ptr: usize, len: i32) => i32;
/** Per-slot events: a connection took the slot, output that had to wait has all been sent,
 *  the protocol's deadline passed, or the connection closed. */
export type SlotFn = (slot: u32) => void;
export type InitFn = () => void;
/** After a trap: for the slot whose code was running (`culprit`), whether nothing of its
 *  current answer has gone out, so the host may send the trap reply; for any other slot,
 *  whether it is between protocol units, so it can move to a fresh instance with its unread
 *  input. It runs in the trapped instance: read state, allocate nothing. */
export type SalvageFn = (slot: u32, culprit: bool) => bool;
export type TickFn = (now: f64) => void;

function noData(slot: u32, ptr: usize, len: i32): i32 {
  return len;
}
function noSlot(slot: u32): void {}
function noInit(): void {}
function noTick(now: f64): void {}
/** Without a protocol's say: never answer the culprit, and move the others (a protocol
 *  whose per-connection state lives only in its unread input, like echo or hello). */
function noSalvage(slot: u32, culprit: bool): bool {
  return !culprit;
}

export let dataFn: DataFn = noData;
export let openFn: SlotFn = noSlot;
export let closeFn: SlotFn = noSlot;
export let drainFn: SlotFn = noSlot;
export let timeoutFn: SlotFn = noSlot;
export let initFn: InitFn = noInit;
export let tickFn: TickFn = noTick;
export let salvageFn: SalvageFn = noSalvage;
export let tickMs: f64 = 0;
export let trapReplyAt: usize = 0;

export function setProtocol(data: DataFn, open: SlotFn, close: SlotFn): void {
  dataFn = data;
  openFn = open;
  closeFn = close;
}
export function setInit(fn: InitFn): void {
  initFn = fn;
}
export function setDrain(fn: SlotFn): void {
  drainFn = fn;
}
export function setTimeoutFn(fn: SlotFn): void {
  timeoutFn = fn;
}
export function setSalvage(fn: SalvageFn): void {
  salvageFn = fn;
}
export function setTrapReplyAt(at: usize): void {
  trapReplyAt = at;
}
export function setTick(ms: f64, fn: TickFn): void {
  tickMs = ms;
  tickFn = fn;
}

/** The slot whose protocol code is running, or -1. A trap leaves it set: wl_salvage reads it. */
export let running: i32 = -1;

// @ts-ignore: decorator
@inline export function callData(slot: u32, ptr: usize, len: i32): i32 {
  running = <i32>slot;
  const used = dataFn(slot, ptr, len);
  running = -1;
  return used;
}
// @ts-ignore: decorator
@inline export function callOpen(slot: u32): void {
  running = <i32>slot;
  openFn(slot);
  running = -1;
}
// @ts-ignore: decorator
@inline export function callClose(slot: u32): void {
  running = <i32>slot;
  closeFn(slot);
  running = -1;
}
// @ts-ignore: decorator
@inline export function callDrain(slot: u32): void {
  running = <i32>slot;
  drainFn(slot);
  running = -1;
}
// @ts-ignore: decorator
@inline export function callTimeout(slot: u32): void {
  running = <i32>slot;
  timeoutFn(slot);
  running = -1;
}
// @ts-ignore: decorator
@inline export function callInit(): void {
  initFn();
}
// @ts-ignore: decorator
@inline export function callTick(now: f64): void {
  tickFn(now);
}
export function callSalvage(slot: u32, culprit: bool): bool {
  return salvageFn(slot, culprit);
}
