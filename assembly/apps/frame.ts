// @limits frame
// wasm/frame.wasm: length-prefixed frames ("WLF1", u32 big-endian length, payload), each
// echoed back whole; frames up to max-frame-bytes (default 1 MiB) stream through.
import { handleInit, handleSalvage, serve } from "../socket";
import { frameData, frameInit, frameOpen, frameSalvage } from "../proto/frame";

export * from "../../guest";

serve(frameData, frameOpen);
handleInit(frameInit);
handleSalvage(frameSalvage);
