/**
 * Drawing a seed's kernel faults, as the property runs do (test/props/profile.ts) and as
 * `wasmloop/testing`'s seededFaults offers them to a guest's own tests. The order of draws is
 * part of every recorded seed: changing it changes what each seed replays.
 */
import type { SimFaults } from './faults.ts';
import { weighted, type Random } from './random.ts';

/** A knob's draw: with odds `on`, a strength in [lo, hi), else 0; always 0 when `calm` (and
 *  then nothing is drawn). */
export function knobDraw(rng: Random, calm: boolean) {
  return (on: number, lo: number, hi: number): number =>
    !calm && rng.next() < on ? lo + rng.next() * (hi - lo) : 0;
}

/** Each knob on with some odds and at a strength drawn from `rng`; all off when `calm`. */
export function drawFaults(rng: Random, calm: boolean): SimFaults {
  const p = knobDraw(rng, calm);
  const cap = () =>
    weighted(rng, [
      [70, 0],
      [5, 1],
      [5, 7],
      [10, 100],
      [10, 4096],
    ] as const);
  return {
    shortRead: p(0.5, 0.1, 0.9),
    shortWrite: p(0.5, 0.1, 0.9),
    eagain: p(0.4, 0.02, 0.3),
    spurious: p(0.4, 0.05, 0.5),
    reorder: p(0.5, 0.2, 1),
    maxRecv: calm ? 0 : cap(),
    maxSend: calm ? 0 : cap(),
  };
}
