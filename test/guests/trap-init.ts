// A guest whose wl_init traps: a reload to it must fail before anything moves, the old guest
// serving on (test/reload.test.ts).
export * from "./lib/no-init";

export function wl_init(): i32 {
  unreachable();
  return 0;
}
