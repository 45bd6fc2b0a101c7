/**
 * One scripted peer of a property run, following its plan (test/props/plan.ts): it connects at a seeded tick, writes its exchange's
 * input in seeded chunks over several ticks, reads (or, for a while, stops reading with a
 * window of 0 or a few bytes), and ends in one of five ways:
 *   fin-early  FIN right after the last write, then reads until the server closes;
 *   fin-late   reads everything expected (and the server's FIN if the guest ends), then FIN;
 *   close      reads everything expected, then close() (FIN, reads nothing more);
 *   reset      RST after a seeded number of chunks, possibly before it was even accepted;
 *   silent     stops writing after a seeded number of chunks and waits, reading, until the
 *              guest's idle timeout closes it.
 * Every byte read is compared at once with the expected output, so a lost, duplicated or
 * reordered byte fails at its offset. A peer is done when the server has closed its side.
 */
import type { SimPeer } from '../../host/kernel/sim/peer.ts';
import type { Random } from '../../host/kernel/sim/random.ts';
import { SIM_EPOCH_MS } from '../../host/kernel/sim/kernel.ts';
import { DATE_VALUE_BYTES, isImfFixdate, type Exchange } from './model.ts';
import type { PeerPlan } from './plan.ts';

/** A broken property: the message says what and where; the runner adds the seed. */
export class PropertyFailure extends Error {}

export interface PeerWorld {
  tick: number;
  now: number;
  rng: Random;
  /** Per tick and peer: probability of a reading stall. */
  stall: number;
  connect(): SimPeer;
  log?: (line: string) => void;
}

export class ScriptedPeer {
  peer: SimPeer | null = null;
  done = false;
  /** Held peers (the priming round) neither read nor open their window until released. */
  held = false;
  private nextChunk = 0;
  private written = 0;
  private nextWriteAt = 0;
  private got = 0;
  private stalledUntil = -1;
  private shut = false;
  private closed = false;
  private didReset = false;
  private resetIn: number;
  private longStalled = false;
  /** The receive window while reading: the plan's, or the kernel's default. */
  private openWindow = 0;
  /** silent: when it stopped writing (virtual ms); then when the server closed it. */
  silentSince = -1;
  closedAt = -1;
  /** When the peer first saw itself accepted, and last read a byte (virtual ms; -1: never). */
  acceptedAt = -1;
  lastReadAt = -1;
  /** The Date value being read (Exchange.dates), and which of them comes next. */
  private dateText = '';
  private nextDate = 0;

  constructor(
    readonly id: number,
    readonly ex: Exchange,
    readonly plan: PeerPlan,
  ) {
    this.resetIn = plan.resetDelay;
  }

  get reset(): boolean {
    return this.didReset;
  }
  /** The peer has nothing more to do but wait for the server to close it. */
  get waiting(): boolean {
    return this.silentSince >= 0;
  }
  /** Nothing will happen on this peer's side until time passes. */
  get idle(): boolean {
    return this.done || this.waiting || this.stalledUntil >= 0;
  }
  get receivedBytes(): number {
    return this.got;
  }

  /** One tick of the script, before the loop's tick. */
  step(w: PeerWorld): void {
    if (this.done) return;
    if (this.peer === null) {
      if (w.tick < this.plan.start) return;
      this.peer = w.connect();
      if (this.peer.refused) throw new PropertyFailure(`peer ${this.id}: connection refused`);
      this.openWindow = this.plan.window > 0 ? this.plan.window : this.peer.window;
      this.peer.setWindow(this.held ? 0 : this.openWindow);
      w.log?.(`t${w.tick} peer ${this.id} connects (${this.describe()})`);
    }
    const p = this.peer;
    if (this.acceptedAt < 0 && p.accepted) this.acceptedAt = w.now;
    if (!this.held && !this.closed && !this.didReset) {
      this.stallOrResume(w, p);
      if (this.stalledUntil < 0) this.read(p.read(), w.now);
    }
    if (!this.shut && !this.didReset && !p.serverClosed) this.write(w, p);
    if (this.didReset) {
      if (p.serverClosed) this.finish(w);
      return;
    }
    this.end(w, p);
    if (p.serverClosed && (this.closed || (this.stalledUntil < 0 && !this.held && p.pending === 0)))
      this.finish(w);
  }

  /** Releases a held peer: its window opens and it reads from the next step on. */
  release(): void {
    this.held = false;
    this.peer?.setWindow(this.openWindow);
  }

  /** What an unfinished peer is waiting for (stuck reports). */
  status(): string {
    const p = this.peer;
    const server =
      p === null
        ? 'not connected'
        : `server accepted=${p.accepted} shutWrite=${p.serverShutWrite} closed=${p.serverClosed} pending=${p.pending} unread=${p.unread}`;
    return `peer ${this.id} (${this.describe()}): wrote ${this.written}/${this.ex.input.length}, read ${this.got}/${this.ex.output.length}, shut=${this.shut} stalled=${this.stalledUntil >= 0}; ${server}`;
  }

  describe(): string {
    const pl = this.plan;
    const reset =
      pl.ending === 'reset'
        ? ` after ${pl.cutAfter} chunks +${pl.resetDelay} ticks`
        : pl.ending === 'silent'
          ? ` after ${pl.cutAfter} chunks`
          : '';
    return `${pl.ending}${reset}, ${this.ex.input.length} B in ${pl.chunks.length} chunks x${pl.burst}/${pl.gap + 1}t, window ${pl.window || 'default'}${this.ex.ends ? ', guest ends' : ''}${this.ex.refused ? ', refused' : ''}`;
  }

  private stallOrResume(w: PeerWorld, p: SimPeer): void {
    if (
      this.plan.longStall > 0 &&
      !this.longStalled &&
      this.stalledUntil < 0 &&
      w.tick >= this.plan.start + this.plan.longStallAt
    ) {
      this.stalledUntil = w.now + this.plan.longStall;
      this.longStalled = true;
      p.setWindow(0);
      w.log?.(`t${w.tick} peer ${this.id} stops reading for long, until ${this.stalledUntil} ms`);
      return;
    }
    if (this.stalledUntil >= 0) {
      if (w.now < this.stalledUntil) return;
      this.stalledUntil = -1;
      p.setWindow(this.openWindow);
      w.log?.(`t${w.tick} peer ${this.id} reads again`);
    } else if (w.rng.chance(w.stall)) {
      this.stalledUntil = w.now + w.rng.int(1, 500);
      p.setWindow(w.rng.next() < 0.5 ? 0 : w.rng.int(1, 64));
      w.log?.(
        `t${w.tick} peer ${this.id} stops reading until ${this.stalledUntil} ms (window ${p.window})`,
      );
    }
  }

  /** Checks new bytes against the expected output at the current offset. */
  private read(bytes: Uint8Array, now: number): void {
    if (bytes.length === 0) return;
    this.lastReadAt = now;
    const want = this.ex.output;
    const dates = this.ex.dates ?? [];
    for (let i = 0; i < bytes.length; i++) {
      const at = this.got + i;
      if (at >= want.length) {
        throw new PropertyFailure(
          `peer ${this.id}: ${this.got + bytes.length - want.length} bytes more than the ${want.length} expected (extra starts ${hex(bytes.subarray(i, i + 16))})`,
        );
      }
      const slot = dates[this.nextDate];
      if (slot !== undefined && at >= slot) {
        this.dateText += String.fromCharCode(bytes[i]!);
        if (at === slot + DATE_VALUE_BYTES - 1) this.checkDate(slot, now);
        continue;
      }
      if (bytes[i] !== want[at]) {
        throw new PropertyFailure(
          `peer ${this.id}: byte ${at} of the output is 0x${hex(bytes.subarray(i, i + 1))}, expected 0x${hex(want.subarray(at, at + 1))}` +
            ` (got ${hex(bytes.subarray(i, i + 12))}..., want ${hex(want.subarray(at, at + 12))}...)`,
        );
      }
    }
    this.got += bytes.length;
  }

  /** A Date value the model left open: an IMF-fixdate of the simulated wall clock, no later
   *  than now. */
  private checkDate(at: number, now: number): void {
    const text = this.dateText;
    this.dateText = '';
    this.nextDate++;
    const t = Date.parse(text);
    if (!isImfFixdate(text) || t < SIM_EPOCH_MS || t > SIM_EPOCH_MS + now) {
      throw new PropertyFailure(
        `peer ${this.id}: the Date at byte ${at} of the output is ${JSON.stringify(text)}, not the simulated clock's (at most ${new Date(SIM_EPOCH_MS + now).toUTCString()})`,
      );
    }
  }

  private write(w: PeerWorld, p: SimPeer): void {
    const pl = this.plan;
    if (w.tick < this.nextWriteAt) return;
    this.nextWriteAt = w.tick + pl.gap + 1;
    for (let k = 0; k < pl.burst; k++) {
      if (pl.ending === 'silent' && this.nextChunk === pl.cutAfter) {
        if (this.silentSince < 0)
          w.log?.(`t${w.tick} peer ${this.id} falls silent after ${this.written} bytes`);
        if (this.silentSince < 0) this.silentSince = w.now;
        return;
      }
      if (pl.ending === 'reset' && this.nextChunk === pl.cutAfter) {
        if (this.resetIn-- > 0) return;
        p.reset();
        this.didReset = true;
        w.log?.(`t${w.tick} peer ${this.id} resets after ${this.written} bytes`);
        return;
      }
      if (this.nextChunk >= pl.chunks.length) return;
      const n = pl.chunks[this.nextChunk++]!;
      p.write(this.ex.input.subarray(this.written, this.written + n));
      this.written += n;
    }
  }

  private end(w: PeerWorld, p: SimPeer): void {
    if (this.shut || this.held) return;
    const allWritten = this.nextChunk >= this.plan.chunks.length || p.serverClosed;
    if (!allWritten) return;
    const allRead = this.got === this.ex.output.length;
    switch (this.plan.ending) {
      case 'fin-early':
        p.shutdownWrite();
        break;
      case 'fin-late':
        if (!allRead || (this.ex.ends && !p.eof && !p.serverClosed)) return;
        p.shutdownWrite();
        break;
      case 'close':
        if (!allRead) return;
        p.close();
        this.closed = true;
        break;
      case 'reset':
      case 'silent':
        return;
    }
    this.shut = true;
    w.log?.(`t${w.tick} peer ${this.id} ${this.plan.ending === 'close' ? 'closes' : 'sends FIN'}`);
  }

  /** The server closed: final checks. */
  private finish(w: PeerWorld): void {
    this.done = true;
    this.closedAt = w.now;
    const p = this.peer!;
    w.log?.(`t${w.tick} peer ${this.id} done: read ${this.got}/${this.ex.output.length}`);
    // What was read is a prefix of the expected (checked as read); no more can be asked of a
    // peer that reset, or fell silent before sending everything.
    if (this.didReset || this.plan.ending === 'silent') return;
    if (this.got !== this.ex.output.length) {
      throw new PropertyFailure(
        `peer ${this.id}: the server closed after ${this.got} of ${this.ex.output.length} expected bytes (${this.describe()})`,
      );
    }
    if (p.wasReset && !this.ex.ends)
      throw new PropertyFailure(
        `peer ${this.id}: the server reset the connection instead of closing it (${this.describe()})`,
      );
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
