// @limits hello
// hello as a guest built before ABI revision 1.2: every export but wl_retire. A reload must
// serve it as before (test/reload-sim.test.ts): it goes on with the requests it has read.
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

serve(helloData, helloOpen);
handleInit(helloInit);
handleSalvage(helloSalvage);
