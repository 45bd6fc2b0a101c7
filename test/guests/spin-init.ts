// A guest whose wl_init never returns: start-up itself runs away. createLoop must reject with
// a WasmloopError once the watchdog fires (the CLI exits 68), and the port must be free again.
export {
  wl_abi_version_1,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
} from "../../assembly/loop";

let spins: u64 = 0;

export function wl_init(): i32 {
  while (spins != U64.MAX_VALUE) spins++; // about 2^64 iterations: forever
  return 0;
}
