// @limits hello
// wasm/hello.wasm: HTTP/1.1 that answers every request with 200 "Hello, World!".
import { handleInit, handleSalvage, serve } from "../socket";
import { helloData, helloInit, helloOpen, helloSalvage } from "../proto/hello";

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

serve(helloData, helloOpen);
handleInit(helloInit);
handleSalvage(helloSalvage);
