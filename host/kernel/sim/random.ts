/**
 * A tiny seeded PRNG (mulberry32) for the simulated kernel. Every random decision of the
 * simulation comes from one of these, so the same seed and the same sequence of calls always
 * give the same behaviour. Not cryptographic; 32 bits of state.
 */
export class Random {
  /** The 32-bit state; advanced by a fixed odd increment on every draw. */
  private state: number;

  /** Any number is accepted; only its low 32 bits (after truncation) matter. */
  constructor(seed: number) {
    this.state = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi], both inclusive (lo when hi < lo). */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /**
   * True with probability `p`. Draws nothing when `p <= 0` (or is not a number), so a run
   * with all faults off consumes no randomness at all.
   */
  chance(p: number | undefined): boolean {
    if (p === undefined || !(p > 0)) return false;
    return this.next() < p;
  }

  /** A fresh 32-bit value, e.g. to seed a guest's own PRNG. */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

/** One of `choices`, picked with probability proportional to its weight. */
export function weighted<T>(rng: Random, choices: readonly (readonly [number, T])[]): T {
  let total = 0;
  for (const [w] of choices) total += w;
  let x = rng.next() * total;
  for (const [w, v] of choices) {
    if (x < w) return v;
    x -= w;
  }
  return choices[choices.length - 1]![1];
}
