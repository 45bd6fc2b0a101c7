/**
 * How many failures in a row a restart survives, and how long each restart waits. One policy for
 * both things that restart: a Loop replacing a guest instance that trapped (host/guest/loop.ts)
 * and a worker pool replacing a thread that died (host/driver/workers.ts).
 */

/** Failures in a row after which a restart is refused (each restart waits longer: 0, 100,
 *  200 ... ms). */
export const DEFAULT_MAX_RESTARTS = 5;
/** Something that has run this long without failing has its count of failures reset. */
const FORGIVE_MS = 60_000;
const MAX_RESTART_DELAY_MS = 5_000;

export class RestartBudget {
  /** Failures in a row, forgiveness applied. */
  count = 0;

  constructor(private readonly max: number = DEFAULT_MAX_RESTARTS) {}

  /** Counts one failure at `nowMs` of something that has run without failing since
   *  `sinceMs` (on the same clock): a run longer than FORGIVE_MS starts the count again. */
  fail(sinceMs: number, nowMs: number): void {
    if (nowMs - sinceMs > FORGIVE_MS) this.count = 0;
    this.count++;
  }

  /** False once the failures in a row outnumber the restarts allowed. */
  get allowsRestart(): boolean {
    return this.count <= this.max;
  }

  /** The wait before the next restart: none after the first failure in a row, then 100 ms,
   *  doubling up to MAX_RESTART_DELAY_MS, so a guest that fails at once cannot spin a core. */
  delayMs(): number {
    return this.count <= 1 ? 0 : Math.min(100 * 2 ** (this.count - 2), MAX_RESTART_DELAY_MS);
  }
}
