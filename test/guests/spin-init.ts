// A guest whose wl_init never returns: start-up itself runs away. createLoop must reject with
// a WasmloopError once the watchdog fires (the CLI exits 68), and the port must be free again;
// a reload to it must fail on the pool's trial thread (test/reload.test.ts).
export * from "./lib/no-init";

let spins: u64 = 0;

export function wl_init(): i32 {
  while (spins != U64.MAX_VALUE) spins++; // about 2^64 iterations: forever
  return 0;
}
