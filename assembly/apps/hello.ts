// @limits hello
// wasm/hello.wasm: HTTP/1.1 that answers every request with 200 "Hello, World!".
import { handleInit, handleSalvage, serve } from "../socket";
import { helloData, helloInit, helloOpen, helloSalvage } from "../proto/hello";

export * from "../../guest";

serve(helloData, helloOpen);
handleInit(helloInit);
handleSalvage(helloSalvage);
