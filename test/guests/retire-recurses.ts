// @limits hello
// hello whose wl_retire recurses until the stack runs out (a hostile or broken guest): a
// reload away from it must still succeed, the new guest serving every connection
// (test/reload-sim.test.ts). Every other export is hello-before-retire's.
export * from "./hello-before-retire";

let depth: i32 = 0;

export function wl_retire(): void {
  depth++;
  wl_retire();
}
