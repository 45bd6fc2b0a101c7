// The protocol a loop serves: plain function references chosen once by the app at its top
// level. AssemblyScript has no closures, so these are functions, not objects; each costs one
// call_indirect.

/** Input bytes [ptr, ptr+len) arrived (together with any not consumed before). Returns how
 *  many were consumed, 0..len; the rest is offered again, with more, next time. Output goes
 *  through connWrite; connEnd/connFail close the connection once the output is sent. */
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

function noData(slot: u32, ptr: usize, len: i32): i32 { return len; }
function noSlot(slot: u32): void {}
function noInit(): void {}
function noTick(now: f64): void {}
/** Without a protocol's say: never answer the culprit, and move the others (a protocol
 *  whose per-connection state lives only in its unread input, like echo or hello). */
function noSalvage(slot: u32, culprit: bool): bool { return !culprit; }

let dataFn: DataFn = noData;
let openFn: SlotFn = noSlot;
let closeFn: SlotFn = noSlot;
let drainFn: SlotFn = noSlot;
let timeoutFn: SlotFn = noSlot;
let initFn: InitFn = noInit;
let tickFn: TickFn = noTick;
let tickMs: f64 = 0;
let salvageFn: SalvageFn = noSalvage;
let trapReplyAt: usize = 0;

/** Installs the protocol; call it from the app's top level. */
export function serve(data: DataFn, open: SlotFn = noSlot, close: SlotFn = noSlot): void {
  dataFn = data;
  openFn = open;
  closeFn = close;
}

/** `fn` runs once in wl_init, after limits are read and the connection table exists: the place
 *  to allocate per-slot state sized maxConnections(). */
export function handleInit(fn: InitFn): void { initFn = fn; }

/** `fn(slot)` runs when output that had to wait for the peer has all been sent and reading
 *  resumes: a protocol streaming more than the output buffer holds continues here. */
export function handleDrain(fn: SlotFn): void { drainFn = fn; }

/** `fn(slot)` runs when the deadline set with connSetTimeout passes. It may write a last
 *  response and call connEnd(slot); if the connection is not ending afterwards, the core
 *  closes it at once. */
export function handleTimeout(fn: SlotFn): void { timeoutFn = fn; }

/** `fn` decides which connections survive a trap (SalvageFn). Protocols that keep state per
 *  connection between units must install one, or their connections move without it. */
export function handleSalvage(fn: SalvageFn): void { salvageFn = fn; }

/** The bytes the host sends, after a trap, to the connection that caused it when the
 *  SalvageFn says it may: a u32 length then the bytes, at `at` (0: none). Keep it current. */
export function setTrapReply(at: usize): void { trapReplyAt = at; }
export function trapReply(): usize { return trapReplyAt; }

/** `fn(now)` runs every `ms` milliseconds (at the granularity of the host's timers). */
export function every(ms: f64, fn: TickFn): void {
  tickMs = ms;
  tickFn = fn;
}

// @ts-ignore: decorator
@inline export function callData(slot: u32, ptr: usize, len: i32): i32 { return dataFn(slot, ptr, len); }
// @ts-ignore: decorator
@inline export function callOpen(slot: u32): void { openFn(slot); }
// @ts-ignore: decorator
@inline export function callClose(slot: u32): void { closeFn(slot); }
// @ts-ignore: decorator
@inline export function callDrain(slot: u32): void { drainFn(slot); }
// @ts-ignore: decorator
@inline export function callTimeout(slot: u32): void { timeoutFn(slot); }
export function callSalvage(slot: u32, culprit: bool): bool { return salvageFn(slot, culprit); }
// @ts-ignore: decorator
@inline export function callInit(): void { initFn(); }
// @ts-ignore: decorator
@inline export function callTick(now: f64): void { tickFn(now); }
export function tickInterval(): f64 { return tickMs; }
