// @limits http
// wasm/greet.wasm: the benchmark's SDK app, written with `http.serve` as an app would be. GET /
// answers a fixed text (with Date, Content-Type and Content-Length its response is about as long
// as nginx's); anything else is 404. It allocates nothing per request, so it keeps AssemblyScript's
// `stub` runtime (docs/GUEST.md).

import * as http from "../http";

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

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathIs("/") && (req.methodIs("GET") || req.methodIs("HEAD"))) {
    res.header("Content-Type", "text/plain").end("Hello from wasmloop!\n");
  } else {
    res.status(404).header("Content-Type", "text/plain").end("Not found\n");
  }
});
