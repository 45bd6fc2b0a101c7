// Echo: every byte back, in order. Backpressure comes from the core: connWrite takes at most
// what the output buffer holds, the rest of the input stays buffered, and the connection stops
// reading until the peer has taken the output.

import { connWrite, count, REQUESTS } from "../socket";

/** DataFn for echo: consumes exactly what fitted into the output. */
export function echoData(slot: u32, ptr: usize, len: i32): i32 {
  count(REQUESTS);
  return connWrite(slot, ptr, len);
}
