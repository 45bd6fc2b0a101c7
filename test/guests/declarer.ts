// @limits test/guests/declarer.limits.json
// wasm/test/declarer.wasm: the hoarder (test/guests/hoarder.ts) with a limit declaration, so
// a test can ask, through limit_of, which values the host hands a guest that declares limits.
export * from "./hoarder";
