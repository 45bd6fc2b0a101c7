// @limits http
// wasm/greet.wasm's app (assembly/apps/greet.ts) with a probe of the allocator, for the tests
// that the SDK allocates nothing per request and holds nothing per idle connection
// (test/http-sdk-memory.test.ts). The `stub` runtime only ever bumps its heap top, so the
// distance between two probes is what was allocated between them, plus the probe's own block.
export * from "../../assembly/apps/greet";

/** Allocates one byte and returns its address: the heap's top, as the stub runtime keeps it. */
export function heap_probe(): usize {
  return heap.alloc(1);
}
