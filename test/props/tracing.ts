/**
 * A SimKernel that remembers the tokens the guest registered, so the runner can inject events
 * for tokens that are stale (their connection is closed: the guest moved the slot's
 * generation on) or live (spurious readiness), and never mistakes one for the other.
 */
import { EPOLL_CTL_ADD, EPOLL_CTL_MOD } from '../../host/kernel/contract.ts';
import { SimKernel } from '../../host/kernel/sim/kernel.ts';
import type { Random } from '../../host/kernel/sim/random.ts';

/** A token as the guest gave it to watch(): [lo, hi] (hi = generation; 0 = a listener). */
export type Token = readonly [number, number];

/** Stale tokens kept for injection: enough variety, bounded memory. */
const STALE_KEPT = 256;

export class TracingKernel extends SimKernel {
  /** Open connection descriptors and their current token. */
  private readonly live = new Map<number, Token>();
  /** Tokens of connections closed since the start, most recent last (at most STALE_KEPT). */
  private readonly stale: Token[] = [];

  override epollCtl(
    epfd: number,
    op: number,
    fd: number,
    events: number,
    lo: number,
    hi: number,
  ): number {
    const rc = super.epollCtl(epfd, op, fd, events, lo, hi);
    if (rc === 0 && (op === EPOLL_CTL_ADD || op === EPOLL_CTL_MOD) && hi >>> 0 !== 0)
      this.live.set(fd, [lo >>> 0, hi >>> 0]);
    return rc;
  }

  override close(fd: number): number {
    const token = this.live.get(fd);
    const rc = super.close(fd);
    if (rc === 0 && token !== undefined) {
      this.live.delete(fd);
      this.stale.push(token);
      if (this.stale.length > STALE_KEPT) this.stale.shift();
    }
    return rc;
  }

  /** A random token of an open connection, if any. */
  liveToken(rng: Random): Token | undefined {
    if (this.live.size === 0) return undefined;
    const k = rng.int(0, this.live.size - 1);
    let i = 0;
    for (const t of this.live.values()) if (i++ === k) return t;
    return undefined;
  }

  /** A random token of a closed connection that no open connection carries now, if any. */
  staleToken(rng: Random): Token | undefined {
    if (this.stale.length === 0) return undefined;
    const t = this.stale[rng.int(0, this.stale.length - 1)]!;
    for (const [lo, hi] of this.live.values()) if (lo === t[0] && hi === t[1]) return undefined;
    return t;
  }

  /** The largest slot index (token lo) registered so far, or -1. */
  highestSlot(): number {
    let max = -1;
    for (const [lo] of this.live.values()) max = Math.max(max, lo);
    for (const [lo] of this.stale) max = Math.max(max, lo);
    return max;
  }
}
