// The HTTP/1.1 guest SDK. An app is one file in assembly/apps/:
//
//   import * as http from "../http";
//   export { wl_abi_version_1, wl_init, wl_events_ptr, wl_events_cap, wl_dispatch, wl_shutdown, wl_stats_ptr,
//     wl_salvage, wl_salvage_record, wl_trap_reply, wl_adopt } from "../loop";
//
//   http.serve((req, res) => {
//     res.header("Content-Type", "text/plain");
//     res.end("Hello from " + req.path);
//   });
//
// docs/GUEST.md is the guide; docs/HTTP.md lists the protocol choices and limits.

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
