// The HTTP/1.1 guest SDK. An app, in the user's own project (or in assembly/apps/ with relative
// imports):
//
//   import * as http from "wasmloop/http";
//   export * from "wasmloop/guest";
//
//   http.serve((req, res) => {
//     res.header("Content-Type", "text/plain");
//     res.end("Hello from " + req.path);
//   });
//
// docs/GUEST.md is the guide; docs/HTTP.md lists the protocol choices and limits. The package's
// http.ts re-exports the list below by name (test/build.test.ts keeps the two equal).

export { serve, onInit } from "./server";
export { maxConnections } from "../socket";
export { Request } from "./request";
export { Response } from "./response";
export { Slice } from "./text";
export { Handler, DataHandler } from "./handler";
export { defaults } from "./limits";
export { JsonWriter } from "./json";
export { ByteBuf } from "./buffers";
export { Multipart, Part } from "./multipart";
export { PartHeaders } from "./multipart-headers";
