/**
 * A scripted peer's plan (test/props/peer.ts runs it): when it connects, how it chunks and
 * paces its input, its receive window and stalls, and which of five endings it takes; and the
 * virtual time between two ticks. Drawn from the seed's script PRNG, in a fixed order, so that
 * a seed replays the same plans.
 */
import type { Random } from '../../host/kernel/sim/random.ts';
import { weighted } from './model.ts';

export type Ending = 'fin-early' | 'fin-late' | 'close' | 'reset' | 'silent';

/** Most write calls one peer makes (bigger payloads get bigger chunks). */
const MAX_CHUNKS = 64;

export interface PeerPlan {
  /** The tick of its round at which the peer connects. */
  start: number;
  chunks: number[];
  /** Chunks written per write step, and ticks between steps. */
  burst: number;
  gap: number;
  ending: Ending;
  /** reset and silent: chunks written before the RST or the silence; reset: ticks waited
   *  after that before the RST. */
  cutAfter: number;
  resetDelay: number;
  /** Receive window: 0 = the kernel's default. */
  window: number;
  /** One long reading stall (window 0) of this many ms, `longStallAt` ticks after connecting;
   *  0 = none. Long enough to outlast HTTP's keep-alive timeout (5 s), short enough for the
   *  idle timeout (60 s): a guest must not give up on a peer that is slow to read. */
  longStall: number;
  longStallAt: number;
}

/** Chances per peer, from the seed's profile. */
export interface PlanOdds {
  silent: number;
  longStall: number;
}

/** A receive window for a peer: mostly the default, sometimes tiny. */
export function drawWindow(rng: Random): number {
  return weighted(rng, [
    [70, 0],
    [5, rng.int(1, 16)],
    [15, rng.int(17, 4096)],
    [10, rng.int(4097, 65536)],
  ] as const);
}

/** A seeded plan for writing `length` input bytes. */
export function drawPlan(rng: Random, length: number, window: number, odds: PlanOdds): PeerPlan {
  const chunks = drawChunks(rng, length);
  const ending = drawEnding(rng, odds);
  return {
    start: rng.next() < 0.5 ? 0 : rng.int(1, 20),
    chunks,
    burst: rng.int(1, 4),
    gap: rng.int(0, 3),
    ending,
    cutAfter:
      ending === 'silent' ? rng.int(0, Math.max(0, chunks.length - 1)) : rng.int(0, chunks.length),
    resetDelay: rng.next() < 0.3 ? 0 : rng.int(1, 20),
    window,
    longStall: rng.chance(odds.longStall) ? rng.int(5500, 8000) : 0,
    longStallAt: rng.int(0, 100),
  };
}

/** The sizes of the write calls for `length` bytes, in one of four styles, at most
 *  MAX_CHUNKS of them. */
function drawChunks(rng: Random, length: number): number[] {
  const style = weighted(rng, [
    [15, 'whole'],
    [15, 'bytes'],
    [30, 'small'],
    [40, 'mixed'],
  ] as const);
  const floor = Math.ceil(length / MAX_CHUNKS);
  const chunks: number[] = [];
  for (let left = length; left > 0;) {
    let n: number;
    switch (style) {
      case 'whole':
        n = left;
        break;
      case 'bytes':
        n = rng.int(1, 8);
        break;
      case 'small':
        n = rng.int(1, 512);
        break;
      case 'mixed':
        n = rng.next() < 0.3 ? rng.int(1, 64) : rng.int(1, 70_000);
        break;
    }
    n = Math.min(left, Math.max(n, floor));
    chunks.push(n);
    left -= n;
  }
  return chunks;
}

function drawEnding(rng: Random, odds: PlanOdds): Ending {
  return rng.chance(odds.silent)
    ? 'silent'
    : weighted(rng, [
        [35, 'fin-early'],
        [30, 'fin-late'],
        [20, 'close'],
        [15, 'reset'],
      ] as const);
}

/** The priming round's plan: everything in one write at once, then FIN once all is read. */
export function primingPlan(length: number): PeerPlan {
  return {
    start: 0,
    chunks: [length],
    burst: 1,
    gap: 0,
    ending: 'fin-late',
    cutAfter: 0,
    resetDelay: 0,
    window: 0,
    longStall: 0,
    longStallAt: 0,
  };
}

/** Virtual ms between two ticks: mostly none or a few, sometimes a long pause (a timer
 *  that fires late, a back-off that passes). About 1 ms per tick on average, so that even
 *  the slowest scripted transfer stays far inside every timeout (header 10 s, keep-alive
 *  5 s, idle 60 s): a timeout that fires in a property run is a bug. */
export function drawTickGap(rng: Random): number {
  return weighted(rng, [
    [70, 0],
    [25, rng.int(1, 3)],
    [4, rng.int(4, 20)],
    [1, rng.int(21, 120)],
  ] as const);
}
