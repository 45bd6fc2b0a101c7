// Test hooks: core internals the test guests (test/guests/) use to probe the sandbox. Not part
// of the protocol API (socket.ts); applications have no use for them.

import { conn } from "./conn/table";

export { connSalvage } from "./conn/salvage";

/** The host handle behind a slot, for raw hostcalls. */
export function connHandle(slot: u32): i32 {
  return conn(slot).handle;
}
