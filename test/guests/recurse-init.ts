// A guest whose wl_init recurses until the engine's stack limit (a RangeError in the host): a
// reload to it must fail before anything moves, the old guest serving on (test/reload.test.ts).
export * from "./lib/no-init";

let depth: i32 = 0;

function deeper(): void {
  depth++;
  deeper();
  depth--; // after the call: no tail call to turn into a loop
}

export function wl_init(): i32 {
  deeper();
  return depth;
}
