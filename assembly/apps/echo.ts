// @limits
// wasm/echo.wasm: every byte back, in order, with backpressure.
import { serve } from "../socket";
import { echoData } from "../proto/echo";

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
  wl_adopt,
} from "../loop";

serve(echoData);
