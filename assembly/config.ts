// Limits the host passes to the guest: `-W name=value` on the CLI, `limits: { name: value }` in
// createLoop. Names are kebab-case and listed in docs/ABI.md; the guest asks for each one it
// uses, once, at start-up, and falls back to its own default when the host has no value.

import { wl_limit } from "./abi";

/** The host's value for `name`, or `fallback`. Allocates: call at start-up only. */
export function limit(name: string, fallback: f64): f64 {
  const bytes = String.UTF8.encode(name);
  const v = wl_limit(changetype<usize>(bytes), bytes.byteLength);
  return v >= 0 ? v : fallback;
}
