// @limits http
// wasm/greet.wasm: the benchmark's SDK app, written with `http.serve` as an app would be. GET /
// answers a fixed text (with Date, Content-Type and Content-Length its response is about as long
// as nginx's); anything else is 404. It allocates nothing per request, so it keeps AssemblyScript's
// `stub` runtime (docs/GUEST.md).

import * as http from "../http";

export * from "../../guest";

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathIs("/") && (req.methodIs("GET") || req.methodIs("HEAD"))) {
    res.header("Content-Type", "text/plain").end("Hello from wasmloop!\n");
  } else {
    res.status(404).header("Content-Type", "text/plain").end("Not found\n");
  }
});
