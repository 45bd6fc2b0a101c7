/**
 * A small seeded PRNG (mulberry32) so that randomised network tests can be replayed: print
 * the seed on failure and run again with WASMLOOP_TEST_SEED=<seed>.
 */
export function testSeed(): number {
  const fromEnv = process.env.WASMLOOP_TEST_SEED;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const bytes = (n: number) => {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE((next() * 4294967296) >>> 0, i);
    for (; i < n; i++) out[i] = (next() * 256) | 0;
    return out;
  };
  return { next, int, bytes };
}
