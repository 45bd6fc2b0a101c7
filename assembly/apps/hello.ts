// build/hello.wasm: HTTP/1.1 that answers every request with 200 "Hello, World!".
import { handleInit, serve } from "../protocol";
import { helloData, helloInit, helloOpen } from "../proto/hello";

export { wl_abi_version_1, wl_init, wl_events_ptr, wl_events_cap, wl_dispatch, wl_shutdown, wl_stats_ptr } from "../loop";

serve(helloData, helloOpen);
handleInit(helloInit);
