/**
 * The property runner: one seed = one guest instance over a TracingKernel, driven through
 * several rounds of scripted peers with seeded faults, a virtual clock and injected events.
 *
 * Properties checked (a PropertyFailure names the first one broken):
 *  - every byte a peer reads is the next byte of the model's expected output (nothing lost,
 *    duplicated or reordered); a peer that did not reset or fall silent reads all of it before
 *    the server closes; one that did read a prefix of it;
 *  - every connection ends closed, and a well-behaved peer is closed with FIN, not RST; a
 *    peer that falls silent is closed by the idle timeout, in time, and no other timeout
 *    fires (every other peer keeps making progress, far inside every timeout);
 *  - the guest never traps;
 *  - after each round: `open` is 0, `buffersInUse` is 0, no descriptor is left open, every
 *    peer was accepted and closed once, `protocolErrors` counts the refused peers, `requests`
 *    the model's units (rounds where every peer sent all its input), and `bytesOut` what the
 *    peers were sent;
 *  - memory: the first round primes the buffer pool to its high-water mark (every peer holds
 *    its most buffers at once, checked with buffersInUse); after that, neither the guest's
 *    heap (its top, to the byte: heap.ts) nor its memory size may grow, in any later round.
 */
import type { SockAddr } from '../../host/kernel/contract.ts';
import type { GuestTrap } from '../../host/guest/env.ts';
import { Loop, type LoopStats } from '../../host/guest/loop.ts';
import { Random } from '../../host/kernel/sim/random.ts';
import { heapAnchor, heapTop } from './heap.ts';
import { chaos as runChaos } from './chaos.ts';
import { checkRound } from './checks.ts';
import { PropertyFailure, ScriptedPeer, type PeerWorld } from './peer.ts';
import { drawPlan, drawTickGap, drawWindow, primingPlan } from './plan.ts';
import { emptyReport, type RunOptions, type RunReport } from './report.ts';
import {
  describeProfile,
  describeTally,
  drawProfile,
  enabledFaults,
  type Profile,
} from './profile.ts';
import { TracingKernel } from './tracing.ts';

export { PropertyFailure } from './peer.ts';
export type { RunOptions, RunReport } from './report.ts';

/** A round is stuck when nothing moved (no byte in or out, no accept, no close) for STUCK_MS
 *  of virtual time (below the default 60 s idle timeout, so a stuck connection is reported as
 *  stuck rather than closed by it, and above the 4 s idle timeout silent peers wait for), or
 *  after MAX_TICKS ticks in all. */
const STUCK_MS = 10_000;
const MAX_TICKS = 200_000;

/** The idle timeout of seeds with silent peers (the default, 60 s, would make rounds long). */
const SILENT_IDLE_MS = 4000;

/** Ticks with no event after which the priming round is considered settled. */
const QUIET_TICKS = 3;

export function runSeed(opts: RunOptions): RunReport {
  let run: Run | undefined;
  try {
    run = new Run(opts);
    run.all();
    return run.report;
  } catch (err) {
    const failure =
      err instanceof PropertyFailure
        ? err.message
        : `runner error: ${(err as Error).stack ?? String(err)}`;
    return { ...(run?.report ?? emptyReport(opts)), failure };
  }
}

class Run {
  readonly report: RunReport;
  private readonly rng: Random;
  private readonly profile: Profile;
  private readonly kernel: TracingKernel;
  private readonly loop: Loop;
  private readonly port: number;
  private readonly traps: GuestTrap[] = [];
  private readonly log: ((line: string) => void) | undefined;
  private peerCount = 0;
  private round = 0;
  /** A heap block that exists from start-up (heap.ts), or -1 when not found. */
  private readonly anchor: number;

  constructor(private readonly opts: RunOptions) {
    // The script's PRNG is a stream of its own, not the kernel's (seeded with `seed` itself).
    this.rng = new Random(Math.imul(opts.seed ^ 0x5bd1e995, 0x9e3779b1));
    this.profile = drawProfile(this.rng, opts.maxPeers ?? 8);
    this.log = opts.log;
    // The listener and the epoll instance take a descriptor each.
    this.kernel = new TracingKernel({
      seed: opts.seed,
      ...(this.profile.fdLimit > 0 ? { maxFds: 2 + this.profile.fdLimit } : {}),
    });
    const fd = this.kernel.listen('127.0.0.1', 0, 4096, false);
    this.port = (this.kernel.localAddress(fd) as SockAddr).port;
    this.report = {
      seed: opts.seed,
      guest: opts.model.guest,
      profile: describeProfile(this.profile),
      peers: 0,
      ticks: 0,
      bytes: 0,
      virtualMs: 0,
      faults: this.kernel.tally,
      enabled: enabledFaults(this.profile),
    };
    this.loop = new Loop({
      module: opts.module,
      kernel: this.kernel,
      listeners: [fd],
      now: () => this.kernel.now,
      wallClock: () => this.kernel.wallMs(),
      maxRestarts: 0,
      limits: this.limits(),
      seed: () => this.kernel.randomSeed(),
      onTrap: (err) => this.traps.push(err),
    });
    this.anchor = heapAnchor(this.loop.instance!.memory);
    this.log?.(
      `seed ${opts.seed} ${opts.model.guest}: ${this.report.profile}; heap anchor ${this.anchor}`,
    );
  }

  all(): void {
    const rounds = Math.max(2, this.opts.rounds ?? 4);
    this.prime();
    const [top, size] = this.memory();
    for (this.round = 1; this.round < rounds; this.round++) {
      this.randomRound();
      const [nowTop, nowSize] = this.memory();
      if (nowTop !== top && this.opts.model.memoryCheck !== 'pages') {
        throw new PropertyFailure(
          `round ${this.round}: the guest heap grew by ${nowTop - top} bytes after the pool was primed (a leak)`,
        );
      }
      if (nowSize !== size) {
        throw new PropertyFailure(
          `round ${this.round}: guest memory grew from ${size} to ${nowSize} bytes after the pool was primed (a leak)`,
        );
      }
    }
    this.report.virtualMs = this.kernel.now;
    const missing = this.kernel.tally.missing();
    if (missing.length > 0)
      throw new PropertyFailure(
        `faults that never happened though they were all but certain to: ${describeTally(this.kernel.tally, missing)}`,
      );
  }

  /** Round 0: every peer holds its most buffers at once. */
  private prime(): void {
    const { exchange, buffers } = this.opts.model.prime();
    // As many peers as can be open at once: later rounds never have more connections open.
    const n =
      this.profile.fdLimit > 0
        ? Math.min(this.profile.peers, this.profile.fdLimit)
        : this.profile.peers;
    this.kernel.faults = {};
    const peers = Array.from({ length: n }, () => {
      const p = new ScriptedPeer(this.peerCount++, exchange, primingPlan(exchange.input.length));
      p.held = true;
      return p;
    });
    this.log?.(`round 0: priming with ${n} peers x ${buffers} buffers`);
    const before = this.loop.stats();
    let quiet = 0;
    for (let tick = 0; quiet < QUIET_TICKS || peers.some((p) => !p.peer?.accepted); tick++) {
      if (tick > 1000)
        throw new PropertyFailure(
          `round 0: priming did not settle (${peers.map((p) => p.status()).join('; ')})`,
        );
      for (const p of peers) p.step(this.world(tick));
      quiet = this.tick(false) === 0 ? quiet + 1 : 0;
    }
    const inUse = this.loop.stats().buffersInUse;
    if (inUse !== n * buffers) {
      throw new PropertyFailure(
        `round 0: ${n} peers that do not read should hold ${n * buffers} pooled buffers, the guest holds ${inUse}`,
      );
    }
    for (const p of peers) p.release();
    this.drive(peers, false, before);
    this.kernel.faults = { ...this.profile.faults };
  }

  /** Rounds 1..: 1..peers random peers under the seed's faults. */
  private randomRound(): void {
    const n = this.rng.int(1, this.profile.peers);
    const peers = Array.from({ length: n }, () => {
      const window = drawWindow(this.rng);
      const budget = window > 0 ? Math.min(this.profile.budget, window * 256) : this.profile.budget;
      const ex = this.opts.model.exchange(this.rng, this.rng.int(0, budget));
      return new ScriptedPeer(
        this.peerCount++,
        ex,
        drawPlan(this.rng, ex.input.length, window, this.profile),
      );
    });
    this.log?.(`round ${this.round}: ${n} peers`);
    this.drive(peers, true, this.loop.stats());
  }

  /** Ticks until every peer is done, then checks the guest's state. */
  private drive(peers: ScriptedPeer[], chaos: boolean, before: LoopStats): void {
    let moved = -1;
    let movedAt = this.kernel.now;
    for (let tick = 0; peers.some((p) => !p.done); tick++) {
      const stats = this.loop.stats();
      const progress = stats.bytesIn + stats.bytesOut + stats.accepted + stats.closed;
      if (progress !== moved) [moved, movedAt] = [progress, this.kernel.now];
      if (tick > MAX_TICKS || this.kernel.now - movedAt > STUCK_MS) {
        const waiting = peers.filter((p) => !p.done).map((p) => p.status());
        throw new PropertyFailure(
          `round ${this.round}: stuck at tick ${tick}, nothing moved for ${this.kernel.now - movedAt} ms; ${waiting.join('; ')} (stats ${JSON.stringify(stats)})`,
        );
      }
      const w = this.world(tick);
      try {
        for (const p of peers) p.step(w);
      } catch (err) {
        if (err instanceof PropertyFailure) {
          err.message = `round ${this.round}, ${this.kernel.now} ms: ${err.message} (stats ${JSON.stringify(this.loop.stats())})`;
        }
        throw err;
      }
      if (chaos) runChaos(this.rng, this.kernel, this.loop.epfd, this.profile, this.log);
      const events = this.tick(chaos && this.rng.chance(this.profile.forceTick));
      // Nothing moving and every peer waiting for time to pass (a timeout, a stall): hurry.
      const waiting = events === 0 && peers.every((p) => p.idle);
      this.kernel.advance(waiting ? this.rng.int(50, 250) : drawTickGap(this.rng));
    }
    checkRound(
      this.round,
      this.loop.stats(),
      before,
      this.kernel.openFds(),
      this.limits()['idle-timeout-ms'] ?? 60_000,
      peers,
    );
    this.report.peers += peers.length;
    for (const p of peers) this.report.bytes += p.ex.input.length + p.receivedBytes;
  }

  private world(tick: number): PeerWorld {
    return {
      tick,
      now: this.kernel.now,
      rng: this.rng,
      stall: this.profile.stall,
      connect: () => this.kernel.connect(this.port),
      ...(this.log ? { log: this.log } : {}),
    };
  }

  /** One loop tick; a trap or a closed loop is a failure. */
  private tick(force: boolean): number {
    const n = this.loop.tick(force);
    this.report.ticks++;
    if (this.traps.length > 0)
      throw new PropertyFailure(
        `round ${this.round}: the guest trapped: ${this.traps[0]!.message}`,
      );
    if (this.loop.closed) throw new PropertyFailure(`round ${this.round}: the loop closed itself`);
    return n;
  }

  /** The guest's limits: the model's, a short idle timeout when peers may fall silent, and
   *  the caller's over both. */
  private limits(): Record<string, number> {
    return {
      ...this.opts.model.limits,
      ...(this.profile.silent > 0 ? { 'idle-timeout-ms': SILENT_IDLE_MS } : {}),
      ...this.opts.limits,
    };
  }

  /** [heap top, memory size]; the top is 0 when the heap could not be walked from start-up. */
  private memory(): [number, number] {
    const mem = this.loop.instance!.memory;
    if (this.anchor < 0) return [0, mem.byteLength];
    const top = heapTop(mem, this.anchor);
    if (top < 0)
      throw new PropertyFailure(
        `round ${this.round}: the guest heap's block chain is broken past ${this.anchor} (a write outside its blocks)`,
      );
    return [top, mem.byteLength];
  }
}
