// @limits hello
// hello whose wl_retire recurses until the stack runs out (a hostile or broken guest): a
// reload away from it must still succeed, the new guest serving every connection
// (test/reload-sim.test.ts).
import { handleInit, handleSalvage, serve } from "../../assembly/socket";
import { helloData, helloInit, helloOpen, helloSalvage } from "../../assembly/proto/hello";

export * from "./lib/no-init";
export {
  wl_init,
  wl_salvage,
  wl_salvage_record,
  wl_trap_reply,
  wl_adopt,
} from "../../assembly/loop";

let depth: i32 = 0;

export function wl_retire(): void {
  depth++;
  wl_retire();
}

serve(helloData, helloOpen);
handleInit(helloInit);
handleSalvage(helloSalvage);
