// A guest whose salvage exports lie, to test that the host checks every answer after a trap.
// It echoes like echo.wasm and traps on "TRAP\n". Then wl_salvage answers, slot by slot:
//   0  ADOPT its listener's handle         1  REPLY for a handle it never had
//   2  ADOPT with a range past its memory  3  ADOPT with a range over 64 KiB
//   4  an action that does not exist       5+ REPLY for every connection, in turn (one counts)
// and wl_trap_reply points past memory; wl_adopt refuses everything (the host must close).
import { wl_listener } from "../../assembly/abi";
import { bytes, equals } from "../../assembly/bytes";
import { connWrite, maxConnections, serve } from "../../assembly/socket";
import { connHandle } from "../../assembly/testing";

export {
  wl_abi_version_1,
  wl_init,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
} from "../../assembly/loop";

const TRAP = bytes("TRAP\n");
const RECORD = memory.data(20, 4);

function liarData(slot: u32, ptr: usize, len: i32): i32 {
  if (equals(ptr, len, TRAP)) unreachable();
  return connWrite(slot, ptr, len);
}

function record(handle: i32, ptr: u32, len: u32): void {
  store<i32>(RECORD, handle);
  store<u32>(RECORD, ptr, 4);
  store<u32>(RECORD, len, 8);
  store<u32>(RECORD, 0, 12); // no output owed
  store<u32>(RECORD, 0, 16);
}

export function wl_salvage_record(): usize {
  return RECORD;
}

export function wl_salvage(slot: i32): i32 {
  const h = connHandle(0); // the first connection's handle (slot 0)
  if (slot == 0) {
    record(wl_listener(0), 0, 0);
    return 1;
  }
  if (slot == 1) {
    record(0x7ffffff, 0, 0);
    return 2;
  }
  if (slot == 2) {
    record(h, 0xfffffff0, 64);
    return 1;
  }
  if (slot == 3) {
    record(h, 0, 1 << 20);
    return 1;
  }
  if (slot == 4) {
    record(h, 0, 0);
    return 99;
  }
  const s = slot - 5;
  if (s >= 8 || s >= maxConnections()) return -1;
  record(connHandle(s), 0, 0);
  return 2;
}

export function wl_trap_reply(): usize {
  return 0xfffffff0;
}

export function wl_adopt(handle: i32, linger: i32, now: f64): i32 {
  return -1;
}

serve(liarData);
