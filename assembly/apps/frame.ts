// @limits frame
// wasm/frame.wasm: length-prefixed frames ("WLF1", u32 big-endian length, payload), each
// echoed back whole; frames up to max-frame-bytes (default 1 MiB) stream through.
import { handleInit, handleSalvage, serve } from "../socket";
import { frameData, frameInit, frameOpen, frameSalvage } from "../proto/frame";

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

serve(frameData, frameOpen);
handleInit(frameInit);
handleSalvage(frameSalvage);
