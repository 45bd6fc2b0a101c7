/**
 * The per-seed shape of a property run: which kernel faults are on and how hard, how much each
 * peer sends, how often raw events are injected and accepts fail, how the clock moves. Drawn
 * from the run's script PRNG, so one seed is one reproducible world. Roughly a quarter of the
 * seeds get no kernel faults at all (the common path must hold too).
 */
import type { FaultKind, FaultTally, SimFaults } from '../../host/kernel/sim/faults.ts';
import type { Random } from '../../host/kernel/sim/random.ts';
import { drawFaults, knobDraw } from '../../host/kernel/sim/fault-draw.ts';
import { weighted } from './model.ts';

export interface Profile {
  /** Kernel faults during the random rounds (the priming round runs without). */
  faults: SimFaults;
  /** Most input bytes one peer sends. */
  budget: number;
  /** Most peers per round (all of them in the priming round). */
  peers: number;
  /** Per tick: probability of injecting one raw epoll record (stale, spurious, out of range). */
  inject: number;
  /** Per tick: probability that the next accepts fail (EMFILE and friends). */
  acceptFail: number;
  /** Per tick and peer: probability that a reading peer stops reading for a while. */
  stall: number;
  /** Per tick: probability of a forced dispatch (a timer firing with no event). */
  forceTick: number;
  /** Per peer: probability that it falls silent and waits for the idle timeout. */
  silent: number;
  /** Per peer: probability of one reading stall of several seconds (only in seeds without
   *  silent peers: those run with a 4 s idle timeout, which a long stall would outlast). */
  longStall: number;
  /** Connections the kernel's descriptor table holds (accept gives EMFILE past it), or 0 for
   *  no limit. */
  fdLimit: number;
}

/** Caps that make every recv or send move few bytes also shrink the payloads, so that a run
 *  stays within a few thousand ticks: at most this many transfers' worth per peer. */
const TRANSFERS_PER_PEER = 256;

export function drawProfile(rng: Random, maxPeers: number): Profile {
  const calm = rng.next() < 0.25;
  const faults = drawFaults(rng, calm);
  const p = knobDraw(rng, calm);
  const slowest = Math.min(faults.maxRecv || Infinity, faults.maxSend || Infinity);
  const budget = Math.min(
    weighted(rng, [
      [30, 2_000],
      [40, 60_000],
      [30, 400_000],
    ] as const),
    slowest * TRANSFERS_PER_PEER,
  );
  const profile: Profile = {
    faults,
    budget,
    peers: rng.int(1, maxPeers),
    inject: p(0.5, 0.01, 0.3),
    acceptFail: p(0.3, 0.005, 0.05),
    // A stall lasts up to 500 ms (~250 ticks): at most a few per peer, not most of its time.
    stall: p(0.5, 0.001, 0.01),
    forceTick: p(0.3, 0.01, 0.1),
    fdLimit: !calm && rng.next() < 0.1 ? rng.int(1, 3) : 0,
    silent: 0,
    longStall: 0,
  };
  if (!calm && rng.next() < 0.15) profile.silent = 0.05 + rng.next() * 0.25;
  else if (!calm && rng.next() < 0.15) profile.longStall = 0.05 + rng.next() * 0.25;
  return profile;
}

/** One line: the knobs that are on. */
export function describeProfile(pr: Profile): string {
  const on = Object.entries({
    ...pr.faults,
    inject: pr.inject,
    acceptFail: pr.acceptFail,
    stall: pr.stall,
    forceTick: pr.forceTick,
    fdLimit: pr.fdLimit,
    silent: pr.silent,
    longStall: pr.longStall,
  })
    .filter(([, v]) => typeof v === 'number' && v > 0)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : (v as number).toFixed(2)}`);
  return `peers<=${pr.peers} budget=${pr.budget} ${on.length > 0 ? on.join(' ') : 'no faults'}`;
}

/** The fault kinds a profile switches on (peers' resets and half-closes are drawn per peer,
 *  and checked by their odds alone). */
export function enabledFaults(pr: Profile): FaultKind[] {
  const on = Object.entries(pr.faults)
    .filter(([, v]) => typeof v === 'number' && v > 0)
    .map(([k]) => k as FaultKind);
  if (pr.acceptFail > 0) on.push('acceptFail');
  if (pr.inject > 0) on.push('injectedEvent');
  return on;
}

/** `kind: hits (P(no hit) = 1e-N)` for the given kinds. */
export function describeTally(
  t: Pick<FaultTally, 'hits' | 'logMiss'>,
  kinds: readonly FaultKind[],
): string {
  return kinds
    .map(
      (k) =>
        `${k}: ${t.hits[k]} injected (odds of none: ${t.logMiss[k] === -Infinity ? '0' : `1e${(t.logMiss[k] / Math.LN10).toFixed(0)}`})`,
    )
    .join(', ');
}
