// build/echo.wasm: every byte back, in order, with backpressure.
import { serve } from "../protocol";
import { echoData } from "../proto/echo";

export { wl_abi_version_1, wl_init, wl_events_ptr, wl_events_cap, wl_dispatch, wl_shutdown, wl_stats_ptr } from "../loop";

serve(echoData);
