/**
 * Runs fuzz inputs against a guest over the simulated kernel. One loop instance serves every
 * input of a session (as a real server would); each input gets a fresh connection, is written
 * in seeded random chunks, then the peer half-closes, reads the answer and closes. A case fails
 * on a trap, a hang (the loop still busy after MAX_TICKS ticks), an answer the target's oracle
 * rejects, or a leak (a connection or buffer still held after the peer is gone).
 */
import { Random } from '../host/kernel/sim/random.ts';
import { simLoop, type SimLoop } from '../test/helpers/sim.ts';
import type { FuzzTarget } from './targets.ts';

/** Ticks one step may take before the guest counts as hung (a step needs a handful). */
const MAX_TICKS = 10_000;

export class FuzzSession {
  private constructor(
    private readonly target: FuzzTarget,
    private readonly s: SimLoop,
  ) {}

  static async open(target: FuzzTarget, seed: number): Promise<FuzzSession> {
    // No idle or header timeouts: the virtual clock never moves during a case.
    return new FuzzSession(target, await simLoop(target.guest, { seed, limits: {} }));
  }

  /** Feeds one input; returns null if the guest kept its contract, else the reason. */
  runOne(input: Uint8Array, rng: Random): string | null {
    const { s } = this;
    const peer = s.connect();
    try {
      s.run(MAX_TICKS);
      for (let at = 0; at < input.length && !peer.serverClosed;) {
        const n = rng.int(1, Math.max(1, input.length - at));
        peer.write(input.subarray(at, at + n));
        at += n;
        s.run(MAX_TICKS);
      }
      const endedByGuest = peer.serverShutWrite || peer.serverClosed;
      if (!peer.serverClosed) peer.shutdownWrite();
      s.run(MAX_TICKS);
      const output = Buffer.from(peer.read());
      if (s.traps.length > 0) return `trap: ${s.traps[0]!.message}`;
      const verdict = this.target.check(input, { output, endedByGuest });
      if (verdict) return verdict;
      peer.close();
      s.run(MAX_TICKS);
      const stats = s.loop.stats();
      if (stats.open !== 0)
        return `leak: ${stats.open} connection(s) still open after the peer closed`;
      if (stats.buffersInUse !== 0)
        return `leak: ${stats.buffersInUse} buffer(s) still lent after the peer closed`;
      return null;
    } catch (err) {
      return s.traps.length > 0
        ? `trap: ${s.traps[0]!.message}`
        : `hang or host error: ${(err as Error).message}`;
    }
  }
}
