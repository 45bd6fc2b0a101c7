// The protocol a loop serves: three callbacks, chosen once by the app with serve().
// AssemblyScript has no closures, so these are plain function references (one call_indirect
// each), not objects.

/** A new connection took `slot`; reset any per-slot state. */
export type OpenFn = (slot: u32) => void;

/** Input bytes [ptr, ptr+len) arrived (together with any not consumed before). Returns how
 *  many were consumed, 0..len; the rest is offered again, with more, next time. Output goes
 *  through connWrite; connEnd/connFail close the connection once the output is sent. */
export type DataFn = (slot: u32, ptr: usize, len: i32) => i32;

/** The connection in `slot` was closed. */
export type CloseFn = (slot: u32) => void;

function noOpen(slot: u32): void {}
function noData(slot: u32, ptr: usize, len: i32): i32 { return len; }
function noClose(slot: u32): void {}

let openFn: OpenFn = noOpen;
let dataFn: DataFn = noData;
let closeFn: CloseFn = noClose;

/** Installs the protocol; call it from the app's top level (before wl_init runs). */
export function serve(data: DataFn, open: OpenFn = noOpen, close: CloseFn = noClose): void {
  dataFn = data;
  openFn = open;
  closeFn = close;
}

// @ts-ignore: decorator
@inline export function onOpen(slot: u32): void { openFn(slot); }
// @ts-ignore: decorator
@inline export function onData(slot: u32, ptr: usize, len: i32): i32 { return dataFn(slot, ptr, len); }
// @ts-ignore: decorator
@inline export function onClose(slot: u32): void { closeFn(slot); }
