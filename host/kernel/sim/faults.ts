/**
 * Fault-injection knobs of the simulated kernel. All are off by default; probabilities are
 * per call, in [0, 1], and every random draw comes from the kernel's seeded PRNG, so a run is
 * reproducible from its seed. A knob that is 0 or undefined draws nothing from the PRNG.
 *
 * `SimKernel.faults` is this object and may be changed at any time during a test.
 */
export interface SimFaults {
  /** Each recv returns at most this many bytes (short reads). 0/undefined: no cap. */
  maxRecv?: number;
  /** Each send takes at most this many bytes (short writes). 0/undefined: no cap. */
  maxSend?: number;
  /** Probability that a recv returns a random length in 1..n instead of n. */
  shortRead?: number;
  /** Probability that a send takes a random length in 1..n instead of n. */
  shortWrite?: number;
  /**
   * Probability that a recv with data, or a send with window space, fails with -EAGAIN
   * anyway. The socket stays ready: it is re-queued on its epoll ready lists (even under
   * EPOLLET), so a later epollWait reports it again.
   */
  eagain?: number;
  /**
   * Probability, per epollWait with room left, of one extra EPOLLIN for a random registration
   * with EPOLLIN interest, ready or not (a listener's accept then gives -EAGAIN, a
   * connection's recv -EAGAIN).
   */
  spurious?: number;
  /** Probability, per epollWait, that the ready list is rotated by a random amount. */
  reorder?: number;
}

/**
 * Every kind of trouble a simulated run injects: the knobs above, failing accepts and raw
 * events (SimKernel.failAccept, injectEvent), and what peers do (SimPeer.reset, shutdownWrite).
 */
export const FAULT_KINDS = [
  'shortRead',
  'shortWrite',
  'maxRecv',
  'maxSend',
  'eagain',
  'spurious',
  'reorder',
  'acceptFail',
  'injectedEvent',
  'reset',
  'halfClose',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Below this probability of seeing no injection at all, a run without one is broken:
 *  e^-21 is about 1 in 1.3 billion. */
const LOG_MISS_LIMIT = -21;

/**
 * What a run's faults actually did, so that a run can prove its faults happened: a fault that
 * is switched off by mistake makes every property run pass without testing anything.
 *
 * `hits` counts injections that changed an outcome (a shorter transfer, an -EAGAIN returned,
 * a record written, a peer's RST or FIN reaching the server's socket). `logMiss` is the log
 * of the probability of no hit at all, summed over every call where a hit was possible (by
 * the call's odds, computed where the call is decided, before the fault code runs; 0 for
 * kinds whose odds are unknown). A tally never draws from a PRNG: counting changes nothing.
 */
export class FaultTally {
  readonly hits = zeroes();
  readonly logMiss = zeroes();

  /** A call where `kind` could hit with probability p (1: it must). */
  chance(kind: FaultKind, p: number): void {
    if (p > 0) this.logMiss[kind] += p >= 1 ? -Infinity : Math.log1p(-p);
  }

  hit(kind: FaultKind): void {
    this.hits[kind]++;
  }

  /** Kinds that never hit although a miss was that unlikely: each means a fault is broken. */
  missing(): FaultKind[] {
    return FAULT_KINDS.filter((k) => this.hits[k] === 0 && this.logMiss[k] < LOG_MISS_LIMIT);
  }

  /** Adds another tally (the seeds of one run). */
  add(other: Pick<FaultTally, 'hits' | 'logMiss'>): void {
    for (const k of FAULT_KINDS) {
      this.hits[k] += other.hits[k];
      this.logMiss[k] += other.logMiss[k];
    }
  }
}

function zeroes(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}
