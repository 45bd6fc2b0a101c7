/**
 * One poll_oneoff call's subscriptions and results (host/command/poll.ts), in typed arrays that
 * are kept for the command's life and grown to the largest call seen: a call decodes the
 * guest's subscriptions straight from its memory into them and writes the events straight back,
 * allocating nothing in steady state (docs/PERFORMANCE.md, "WASI commands"). The preview1
 * layout (witx typenames):
 *
 *   subscription, 48 bytes: userdata u64 @0, tag u8 @8 (0 clock, 1 fd_read, 2 fd_write), then
 *     clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 (1 = abstime)
 *     fd_read / fd_write: fd u32 @16
 *   event, 32 bytes: userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
 *     (flags bit 0: fd_readwrite_hangup)
 */
import type { Socket } from './socket-io.ts';

export const SUBSCRIPTION_SIZE = 48;
export const EVENT_SIZE = 32;
export const EVENTTYPE_CLOCK = 0;
export const EVENTTYPE_FD_READ = 1;
export const EVENTTYPE_FD_WRITE = 2;
const SUBSCRIPTION_CLOCK_ABSTIME = 1;
/** PollTable.decode's answers. */
export const DECODE_INVALID = 0;
export const DECODE_CHANGED = 1;
export const DECODE_SAME = 2;

export class PollTable {
  /** As the guest wrote them: userdata (two u32 halves), event type, fd or clock id, timeout
   *  (two halves), whether the timeout is absolute. */
  userLo!: Uint32Array;
  userHi!: Uint32Array;
  type!: Uint8Array;
  arg!: Uint32Array;
  timeoutLo!: Uint32Array;
  timeoutHi!: Uint32Array;
  absolute!: Uint8Array;
  /** What poll.ts made of each (its Kind), the host fd or socket it watches, a clock's
   *  deadline on performance.now(), and the errno of one that fires at once. */
  kind!: Uint8Array;
  hostFd!: Int32Array;
  socket: (Socket | undefined)[] = [];
  deadline!: Float64Array;
  errno!: Uint16Array;
  /** Where this call's events go (the guest's array, set by startAnswers) and how many of
   *  them the current pass has written: fire() writes each straight there. */
  private out: DataView = new DataView(new ArrayBuffer(0));
  private outAt = 0;
  firedCount = 0;
  /** Set while a call is classified when a subscription can have fired before any epoll_wait
   *  (a fixed answer, or a socket's bytes read ahead or end of input): only then does the
   *  call ask every subscription before it waits (poll.ts waitForAny). */
  answerBeforeWait = false;
  /** What the last call's kinds, host fds, sockets and registrations were made from (poll.ts
   *  classifyAll): its count (0: nothing to reuse), the fd table's version, the readiness
   *  generation after its commit and whether max-connections was reached. A call whose
   *  subscriptions name the same types and fds, with all three unchanged, reuses them. */
  classifiedN = 0;
  fdVersion = 0;
  readinessGeneration = 0;
  atLimit = false;

  constructor() {
    this.allocate(8);
  }

  /** Room for `n` subscriptions (what the rows held is not kept: each call decodes afresh). */
  ensure(n: number): void {
    if (this.type.length < n) this.allocate(Math.max(n, this.type.length * 2));
  }

  private allocate(size: number): void {
    this.classifiedN = 0;
    this.userLo = new Uint32Array(size);
    this.userHi = new Uint32Array(size);
    this.type = new Uint8Array(size);
    this.arg = new Uint32Array(size);
    this.timeoutLo = new Uint32Array(size);
    this.timeoutHi = new Uint32Array(size);
    this.absolute = new Uint8Array(size);
    this.kind = new Uint8Array(size);
    this.hostFd = new Int32Array(size);
    this.deadline = new Float64Array(size);
    this.errno = new Uint16Array(size);
  }

  /** Reads `n` subscriptions at `from`: DECODE_INVALID at an event type preview1 does not
   *  have; DECODE_SAME when every type and fd or clock id is the last decode's (and `n` the
   *  count last classified), else DECODE_CHANGED. */
  decode(view: DataView, from: number, n: number): number {
    let same = n === this.classifiedN;
    for (let i = 0; i < n; i++) {
      const at = from + i * SUBSCRIPTION_SIZE;
      const type = view.getUint8(at + 8);
      if (type !== EVENTTYPE_CLOCK && type !== EVENTTYPE_FD_READ && type !== EVENTTYPE_FD_WRITE) {
        this.classifiedN = 0; // rows were overwritten
        return DECODE_INVALID;
      }
      const arg = view.getUint32(at + 16, true);
      if (type !== this.type[i] || arg !== this.arg[i]) same = false;
      this.type[i] = type;
      this.arg[i] = arg;
      this.userLo[i] = view.getUint32(at, true);
      this.userHi[i] = view.getUint32(at + 4, true);
      this.timeoutLo[i] = view.getUint32(at + 24, true);
      this.timeoutHi[i] = view.getUint32(at + 28, true);
      this.absolute[i] = view.getUint16(at + 40, true) & SUBSCRIPTION_CLOCK_ABSTIME;
    }
    return same ? DECODE_SAME : DECODE_CHANGED;
  }

  /** Subscription `i`'s timeout in nanoseconds. */
  timeout(i: number): bigint {
    return (BigInt(this.timeoutHi[i]!) << 32n) | BigInt(this.timeoutLo[i]!);
  }

  /** Events go to `view` at `out` from now on (the guest's array: every subscription has been
   *  read, so it may overlap them); the pass count starts at 0. */
  startAnswers(view: DataView, out: number): void {
    this.out = view;
    this.outAt = out;
    this.firedCount = 0;
  }

  /** Subscription `i` has fired with this answer: its event is written next in the guest's
   *  array. Fired subscriptions are asked in order, so the events are in subscription order;
   *  a pass that asks them all again starts over (firedCount = 0). */
  fire(i: number, error: number, nbytes: number, hangup: boolean): true {
    const view = this.out;
    const at = this.outAt + this.firedCount++ * EVENT_SIZE;
    // Every byte of the event is written, padding as 0 (by words: fill() is a runtime call).
    view.setUint32(at, this.userLo[i]!, true);
    view.setUint32(at + 4, this.userHi[i]!, true);
    view.setUint32(at + 8, error | (this.type[i]! << 16), true); // byte 11: 0
    view.setUint32(at + 12, 0, true);
    // "clock events ignore this field": nbytes and flags are 0 for them
    const clock = this.type[i] === EVENTTYPE_CLOCK;
    const n = clock ? 0 : nbytes;
    view.setUint32(at + 16, n % 2 ** 32, true);
    view.setUint32(at + 20, Math.floor(n / 2 ** 32), true);
    view.setUint32(at + 24, !clock && hangup ? 1 : 0, true); // bytes 26-27: 0
    view.setUint32(at + 28, 0, true);
    return true;
  }
}
