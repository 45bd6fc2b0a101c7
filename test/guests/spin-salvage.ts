// A guest that echoes, traps on "TRAP\n", and then, asked which connections can be saved,
// names two and never returns from wl_salvage for the third: the host has taken those two out
// of the trapped instance's table when the watchdog kills the thread. Whoever ends the thread
// must still close them (test/watchdog.test.ts).
import { bytes, equals } from "../../assembly/bytes";
import { connWrite, serve } from "../../assembly/socket";
import { connSalvage } from "../../assembly/testing";

export {
  wl_abi_version_1,
  wl_init,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
  wl_salvage_record,
  wl_trap_reply,
  wl_adopt,
} from "../../assembly/loop";

const TRAP = bytes("TRAP\n");
let named = 0;
let spins: u64 = 0;

export function wl_salvage(slot: i32): i32 {
  if (named == 2) while (spins != U64.MAX_VALUE) spins++; // about 2^64 iterations: forever
  const action = connSalvage(slot);
  if (action == 1) named++; // Adopt: the host takes it out of this instance
  return action;
}

function echo(slot: u32, ptr: usize, len: i32): i32 {
  if (equals(ptr, len, TRAP)) unreachable();
  return connWrite(slot, ptr, len);
}

serve(echo);
