// `import * as http from "wasmloop/http"`: the HTTP/1.1 guest SDK (assembly/http/, docs/GUEST.md).
export {
  serve,
  onInit,
  maxConnections,
  Request,
  Response,
  Slice,
  Handler,
  DataHandler,
  defaults,
  JsonWriter,
  ByteBuf,
  Multipart,
  Part,
  PartHeaders,
} from "./assembly/http/index";
