// The functions an app registered for each slot's current request: onData, onEnd, onDrain.
// They live here, in per-slot arrays, rather than in Request and Response: a class cannot yet
// hold a function whose type names that class (AssemblyScript: "recursive types").

import { DataHandler, Handler, noData, noHandler } from "./handler";

export let dataFns = new StaticArray<DataHandler>(0);
export let endFns = new StaticArray<Handler>(0);
export let drainFns = new StaticArray<Handler>(0);

/** Sizes the arrays for `slots` connections; called once at start-up. */
export function callbacksInit(slots: i32): void {
  dataFns = new StaticArray<DataHandler>(slots);
  endFns = new StaticArray<Handler>(slots);
  drainFns = new StaticArray<Handler>(slots);
  for (let i = 0; i < slots; i++) clearCallbacks(<u32>i);
}

/** Forgets the slot's functions (a new request starts with none). */
export function clearCallbacks(slot: u32): void {
  // unchecked: slot < maxConnections(), the arrays' length (callbacksInit)
  unchecked((dataFns[slot] = noData));
  unchecked((endFns[slot] = noHandler));
  unchecked((drainFns[slot] = noHandler));
}
