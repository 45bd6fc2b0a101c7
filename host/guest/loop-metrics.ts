/**
 * What a Loop counts besides the guest's own counters (wl_stats_ptr) for the metrics: traps by
 * cause, failed accepts by errno, and how long its slices take. Nothing here adds a clock read
 * to the blocking driver's path: a slice starts at the clock reading wl_dispatch is given and
 * ends at the driver's next reading (docs/PERFORMANCE.md, "Metrics"). An accept is counted on
 * its error path only: a connection accepted costs nothing more.
 */
import { ERRNO_NAMES } from '../abi.ts';
import { Errno } from '../errno.ts';
import { GuestTrap } from './env.ts';
import { STAT_NAMES, zeroStats, type GuestStats } from './exports.ts';
import type { LoopStats } from './loop-options.ts';
import type { PeerGuard } from './peer-guard.ts';

/** Why a guest instance ended. `abort`: the guest called abort; `wasm`: a wasm trap
 *  (unreachable, out-of-bounds access, stack overflow); `host`: a hostcall threw (e.g. the
 *  handle space ran out). A pool adds `watchdog` (a guest call ran too long) and `worker_exit`
 *  (its thread died otherwise): those replace the thread, so only the pool sees them. */
export const TRAP_CAUSES = ['abort', 'wasm', 'host', 'watchdog', 'worker_exit'] as const;
export type TrapCause = (typeof TRAP_CAUSES)[number];

/** The upper bounds, in seconds, of the slice duration buckets (then +Inf): from a wake-up
 *  that serves one request (a few µs) to a guest call the watchdog would soon stop. */
export const SLICE_BOUNDS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1,
] as const;

export interface SliceHistogram {
  /** Slices per bucket, not cumulative: counts[i] for bounds[i-1] < d <= bounds[i], the last
   *  one for d above every bound. */
  counts: number[];
  /** Their total duration in seconds. */
  sumSeconds: number;
}

/** Everything a loop reports to the metrics (host/metrics.ts). */
export interface LoopMetrics {
  stats: LoopStats;
  traps: Record<TrapCause, number>;
  slices: SliceHistogram;
  /** Failed accept(2) calls by WASI errno (the index, as in ERRNO_NAMES); EAGAIN is never one. */
  acceptErrors: number[];
  /** Reloads (host/guest/reload.ts) that took over, and that failed before anything moved. */
  reloads: ReloadCounts;
}

export interface ReloadCounts {
  ok: number;
  failed: number;
}

/** Counts accept's failure `rc` (a negative errno) by errno. EAGAIN (no connection waiting, the
 *  end of every batch) is not a failure. Called on accept's error path only. */
export function countAcceptError(counts: number[], rc: number): void {
  if (rc !== -Errno.EAGAIN && -rc < counts.length) counts[-rc]!++;
}

export function zeroTraps(): Record<TrapCause, number> {
  return Object.fromEntries(TRAP_CAUSES.map((c) => [c, 0])) as Record<TrapCause, number>;
}

/** The cause of a trap a Loop caught from a guest call. */
export function trapCause(err: unknown): TrapCause {
  if (err instanceof GuestTrap) return err.message.startsWith('abort:') ? 'abort' : 'host';
  // V8 reports a wasm stack overflow as a RangeError, every other wasm trap as a RuntimeError.
  return 'wasm';
}

/** A Loop's traps and slice durations. */
export class LoopCounters {
  readonly traps = zeroTraps();
  /** Failed accepts by errno, for every instance of the loop (countAcceptError). */
  readonly acceptErrors = new Array<number>(ERRNO_NAMES.length).fill(0);
  readonly reloads: ReloadCounts = { ok: 0, failed: 0 };
  private readonly counts = new Array<number>(SLICE_BOUNDS_S.length + 1).fill(0);
  private sumMs = 0;
  /** The clock reading (ms) the running slice began with; -1 when none is open. */
  sliceStart = -1;

  /** Closes the open slice at the clock reading `nowMs`. A reading older than the slice's
   *  start (taken before a dispatch that trapped) drops it: its end is unknown. */
  endSlice(nowMs: number): void {
    if (this.sliceStart < 0) return;
    const ms = nowMs - this.sliceStart;
    this.sliceStart = -1;
    if (ms < 0) return;
    this.sumMs += ms;
    let i = 0;
    while (i < SLICE_BOUNDS_S.length && ms > SLICE_BOUNDS_S[i]! * 1000) i++;
    this.counts[i]!++;
  }

  snapshot(): Omit<LoopMetrics, 'stats'> {
    return {
      traps: { ...this.traps },
      reloads: { ...this.reloads },
      slices: { counts: [...this.counts], sumSeconds: this.sumMs / 1000 },
      acceptErrors: [...this.acceptErrors],
    };
  }
}

/** Counters of the instances a loop no longer runs (trapped, or replaced by a reload), and its
 *  restarts. */
export class RetiredCounters {
  readonly stats: GuestStats = zeroStats();
  restarts = 0;

  /** Folds in the counters of an instance that is dropped, and `closed` connections the host
   *  closed for it. Gauges (open connections, buffers in use) describe live instances only. */
  add(g: { stats(): GuestStats }, closed = 0): void {
    const s = g.stats();
    for (const k of STAT_NAMES) if (k !== 'open' && k !== 'buffersInUse') this.stats[k] += s[k];
    this.stats.closed += closed;
  }

  /** The loop's counters: the live instances' (`live`) plus these. */
  total(live: GuestStats, guard: PeerGuard): LoopStats {
    const out = {
      restarts: this.restarts,
      connectionsRefused: guard.refused,
      peersBlocked: guard.blocks,
    } as LoopStats;
    for (const k of STAT_NAMES) out[k] = live[k] + this.stats[k];
    return out;
  }
}
