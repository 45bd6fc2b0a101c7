// Every export of a guest but wl_init, for the guests whose start-up misbehaves (spin-init,
// trap-init, recurse-init), and for hello-before-retire, which adds the rest but wl_retire.
export {
  wl_abi_version_1,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
} from "../../../assembly/loop";
