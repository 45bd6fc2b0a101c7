// @runtime incremental
// @limits hello
// wasm/hello.wasm's protocol plus a real cost per connection: 1 KiB of the guest's heap,
// allocated and written when a connection opens and freed when it closes. It exists to check
// the bench's idle-memory method (bench/idle.ts, docs/PERFORMANCE.md "Method"): whatever the
// method subtracts as the server's one-time growth, this guest must still measure about 1 KiB
// more per idle connection than hello.wasm (the bench's row `wasmloop-keeps-1k`, every full run).
import { handleInit, handleSalvage, maxConnections, serve } from "../../assembly/socket";
import { helloData, helloInit, helloOpen, helloSalvage } from "../../assembly/proto/hello";

export * from "../../guest";

const KEPT_BYTES: usize = 1024;
let kept: StaticArray<usize> = new StaticArray<usize>(0);

function keepInit(): void {
  helloInit();
  kept = new StaticArray<usize>(maxConnections());
}

function keepOpen(slot: u32): void {
  helloOpen(slot);
  const block = heap.alloc(KEPT_BYTES);
  memory.fill(block, <u8>slot, KEPT_BYTES); // written, so its pages are resident
  unchecked((kept[slot] = block));
}

function keepClose(slot: u32): void {
  const block = unchecked(kept[slot]);
  if (block != 0) heap.free(block);
  unchecked((kept[slot] = 0));
}

serve(helloData, keepOpen, keepClose);
handleInit(keepInit);
handleSalvage(helloSalvage);
