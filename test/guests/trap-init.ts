// A guest whose wl_init traps: a reload to it must fail before anything moves, the old guest
// serving on (test/reload.test.ts).
export {
  wl_abi_version_1,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
} from "../../assembly/loop";

export function wl_init(): i32 {
  unreachable();
  return 0;
}
