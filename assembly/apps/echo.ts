// @limits
// wasm/echo.wasm: every byte back, in order, with backpressure.
import { serve } from "../socket";
import { echoData } from "../proto/echo";

export * from "../../guest";

serve(echoData);
