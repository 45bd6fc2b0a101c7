// A guest that echoes, traps on "TRAP\n", and never returns from wl_adopt: after a trap the
// fresh instance is handed the saved connections and spins on the first one. Only a watchdog
// stops it, and whoever ends the thread must close every saved connection (test/workers.test.ts).
import { bytes, equals } from "../../assembly/bytes";
import { connWrite, serve } from "../../assembly/socket";

export {
  wl_abi_version_1,
  wl_init,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
  wl_salvage,
  wl_salvage_record,
  wl_trap_reply,
} from "../../assembly/loop";

const TRAP = bytes("TRAP\n");
let spins: u64 = 0;

export function wl_adopt(handle: i32, linger: i32, now: f64): i32 {
  while (spins != U64.MAX_VALUE) spins++; // about 2^64 iterations: forever
  return -1;
}

function echo(slot: u32, ptr: usize, len: i32): i32 {
  if (equals(ptr, len, TRAP)) unreachable();
  return connWrite(slot, ptr, len);
}

serve(echo);
