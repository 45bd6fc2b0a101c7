// `import { serve, connWrite } from "wasmloop/socket"`: the connection core's protocol API, for
// guests that speak something other than HTTP (assembly/socket.ts, docs/GUEST.md).
export * from "./assembly/socket";
