/**
 * wasmloop's own poll_oneoff for WASI commands (host/command/command.ts), the same on both backends:
 * @wasmer/wasi traps (`unreachable`) on stdio subscriptions and node:wasi mislabels a bad fd's
 * event and never wakes for an absolute monotonic time. The preview1 layout (witx typenames):
 *
 *   subscription, 48 bytes: userdata u64 @0, tag u8 @8 (0 clock, 1 fd_read, 2 fd_write), then
 *     clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 (1 = abstime)
 *     fd_read / fd_write: fd u32 @16
 *   event, 32 bytes: userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
 *     (flags bit 0: fd_readwrite_hangup)
 *
 * Each subscription becomes a Waiter that can say, without blocking, whether it has fired; the
 * call waits (asleep: epoll_wait on the stdio fds or Atomics.wait, never a spin) until at least
 * one has, then reports every one that has. Sources: clocks, the host's stdio, fds the backend
 * owns (files: always ready, as the spec says of regular files), and the command's sockets
 * (host/command/poll-sockets.ts), over the same epoll instance (host/command/ready.ts).
 */
import { Errno } from '../errno.ts';
import { sleep } from './abort.ts';
import { fits, type StdioFds, type WasiFunction, type WasiFunctions } from './stdio.ts';
import type { FdTable } from './fd-table.ts';
import { socketWaiter, type SocketPoll } from './poll-sockets.ts';
import type { HostReadiness, Readiness, Watch } from './ready.ts';
import { EPOLLIN } from '../kernel/contract.ts';

const SUBSCRIPTION_SIZE = 48;
const EVENT_SIZE = 32;
const EVENTTYPE_CLOCK = 0;
const EVENTTYPE_FD_READ = 1;
const EVENTTYPE_FD_WRITE = 2;
const SUBSCRIPTION_CLOCK_ABSTIME = 1;
/** clockid: realtime, monotonic, process_cputime_id, thread_cputime_id. */
const CLOCK_IDS = 4;
/** The most subscriptions one call takes. Each becomes a host object, so without a bound a
 *  guest with a 4 GiB memory could make the host hold 89 million of them; real programs poll
 *  a few fds and a timer. More is ENOMEM (the host will not hold them), before any is read. */
export const MAX_SUBSCRIPTIONS = 65536;
/** The longest single sleep: the clocks are looked at again at least this often. */
const MAX_SLEEP_MS = 1000;

/** What a subscription reports once it has fired. */
interface Fired {
  error: number;
  nbytes: number;
  hangup: boolean;
}

interface Waiter {
  userdata: bigint;
  type: number;
  /** The event if it has fired now, else undefined. Never blocks. */
  check(readiness: Readiness): Fired | undefined;
  /** For a clock: performance.now() at which it fires. */
  deadlineMs?: number;
  /** For a read or write on a host fd: what to watch while asleep. */
  watch?: Watch;
}

/** What poll_oneoff needs from the backend and the command around it. */
export interface PollDeps {
  memory(): ArrayBuffer;
  stdio: StdioFds;
  /** The backend's own preview1 functions (clock_time_get, fd_fdstat_get), for what it owns. */
  backend: WasiFunctions;
  /** Guest fds: the backend's (in its own numbers) or sockets. */
  fds: FdTable;
  sockets: SocketPoll;
  /** The command's one epoll instance (shared with blocking socket calls). */
  readiness: HostReadiness;
}

const ok = (nbytes = 0, hangup = false): Fired => ({ error: Errno.ESUCCESS, nbytes, hangup });
const failed = (error: number): Fired => ({ error, nbytes: 0, hangup: false });

/** A poll_oneoff(in, out, nsubscriptions, nevents) over `deps`; its arguments arrive as u32. */
export function createPollOneoff(deps: PollDeps): WasiFunction {
  const readiness = deps.readiness;
  const pollOneoff: WasiFunction = (inPtr, outPtr, count, neventsPtr) => {
    const [from, to, n, nevents] = [
      Number(inPtr),
      Number(outPtr),
      Number(count),
      Number(neventsPtr),
    ];
    const memory = deps.memory();
    if (n === 0) return Errno.EINVAL; // the spec: "If nsubscriptions is 0, returns errno::inval"
    if (n > MAX_SUBSCRIPTIONS) return Errno.ENOMEM;
    if (
      !fits(memory, from, n * SUBSCRIPTION_SIZE) ||
      !fits(memory, to, n * EVENT_SIZE) ||
      !fits(memory, nevents, 4)
    ) {
      return Errno.EFAULT;
    }
    // Every subscription is read before anything is written to the event area: the guest
    // may pass overlapping ranges, and the backend calls below use each event slot as scratch.
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < n; i++) {
      const sub = readSubscription(memory, from + i * SUBSCRIPTION_SIZE);
      if (sub === undefined) return Errno.EINVAL; // an event type preview1 does not have
      subscriptions.push(sub);
    }
    const waiters = subscriptions.map((sub, i) => toWaiter(deps, sub, to + i * EVENT_SIZE));
    const fired = waitForAny(waiters, readiness);
    writeEvents(deps.memory(), to, fired);
    new DataView(deps.memory()).setUint32(nevents, fired.length, true);
    return Errno.ESUCCESS;
  };
  return pollOneoff;
}

interface Subscription {
  userdata: bigint;
  type: number;
  /** fd_read / fd_write */
  fd: number;
  /** clock */
  clockId: number;
  timeout: bigint;
  absolute: boolean;
}

/** The subscription at `at`; undefined for an event type preview1 does not have. */
function readSubscription(memory: ArrayBuffer, at: number): Subscription | undefined {
  const view = new DataView(memory);
  const type = view.getUint8(at + 8);
  if (type !== EVENTTYPE_CLOCK && type !== EVENTTYPE_FD_READ && type !== EVENTTYPE_FD_WRITE)
    return undefined;
  return {
    userdata: view.getBigUint64(at, true),
    type,
    fd: view.getUint32(at + 16, true),
    clockId: view.getUint32(at + 16, true),
    timeout: view.getBigUint64(at + 24, true),
    absolute: (view.getUint16(at + 40, true) & SUBSCRIPTION_CLOCK_ABSTIME) !== 0,
  };
}

/** A subscription as a Waiter; `scratch` (its event slot, 32 bytes the guest gave us to write)
 *  holds what the backend's functions return. */
function toWaiter(deps: PollDeps, sub: Subscription, scratch: number): Waiter {
  if (sub.type === EVENTTYPE_CLOCK) return clockWaiter(deps, sub, scratch);
  const base = { userdata: sub.userdata, type: sub.type };
  const entry = deps.fds.get(sub.fd);
  if (entry === undefined) return { ...base, check: () => failed(Errno.EBADF) };
  if (entry.socket) {
    const waiter = socketWaiter(deps.sockets, entry.socket, sub.type === EVENTTYPE_FD_WRITE);
    return { ...base, ...waiter };
  }
  const fd = entry.backend;
  const hostFd = deps.stdio.hostFd(fd);
  if (hostFd !== undefined) {
    // Writes to stdout and stderr never fail with EAGAIN (command-stdio.ts waits it out), so
    // they are ready at once; nbytes is 0: how much a pipe would take is not known.
    if (sub.type === EVENTTYPE_FD_WRITE) return { ...base, check: () => ok() };
    return { ...base, watch: { fd: hostFd, events: EPOLLIN }, check: (r) => r.readable(hostFd) };
  }
  // Anything else is the backend's: a bad fd is an EBADF event; a file it opened is ready.
  const errno = Number(deps.backend.fd_fdstat_get?.(fd, scratch) ?? Errno.EBADF);
  return { ...base, check: () => (errno === Errno.ESUCCESS ? ok() : failed(errno)) };
}

/**
 * A clock subscription. Deadlines are kept on performance.now(); an absolute timeout is
 * turned into one by reading the same clock the guest reads (the backend's clock_time_get).
 * The CPU-time clocks do not advance while a command sleeps here, so read literally they
 * would never fire: their timeouts are waited out as elapsed time (docs/WASI.md).
 */
function clockWaiter(deps: PollDeps, sub: Subscription, scratch: number): Waiter {
  const base = { userdata: sub.userdata, type: EVENTTYPE_CLOCK };
  if (sub.clockId >= CLOCK_IDS) return { ...base, check: () => failed(Errno.EINVAL) };
  let waitNs = sub.timeout;
  if (sub.absolute) {
    const errno = Number(deps.backend.clock_time_get?.(sub.clockId, 0n, scratch) ?? Errno.ENOSYS);
    if (errno !== Errno.ESUCCESS) return { ...base, check: () => failed(errno) };
    waitNs = sub.timeout - new DataView(deps.memory()).getBigUint64(scratch, true);
  }
  const deadlineMs = performance.now() + (waitNs > 0n ? Number(waitNs) / 1e6 : 0);
  return { ...base, deadlineMs, check: () => (performance.now() >= deadlineMs ? ok() : undefined) };
}

interface Event extends Fired {
  userdata: bigint;
  type: number;
}

/**
 * Sleeps until at least one waiter has fired; returns all that have, in subscription order.
 * One epoll_wait per call when something is ready or becomes ready before the first deadline:
 * the waiters are first asked without epoll (bytes read ahead, clocks, files), and epoll is
 * then asked once, without sleeping if one of them has fired.
 */
function waitForAny(waiters: Waiter[], readiness: HostReadiness): Event[] {
  readiness.want(waiters.flatMap((w) => (w.watch === undefined ? [] : [w.watch])));
  let fired = firedNow(waiters, readiness);
  const deadline = Math.min(...waiters.map((w) => w.deadlineMs ?? Infinity));
  for (;;) {
    const ms =
      fired.length > 0 ? 0 : Math.min(Math.max(deadline - performance.now(), 0), MAX_SLEEP_MS);
    if (!readiness.wait(ms)) {
      if (fired.length > 0) return fired; // nothing on epoll: the first answer is the answer
      sleep(ms);
    }
    fired = firedNow(waiters, readiness);
    if (fired.length > 0) return fired;
  }
}

function firedNow(waiters: Waiter[], readiness: Readiness): Event[] {
  const fired: Event[] = [];
  for (const w of waiters) {
    const f = w.check(readiness);
    if (f !== undefined) fired.push({ ...f, userdata: w.userdata, type: w.type });
  }
  return fired;
}

function writeEvents(memory: ArrayBuffer, out: number, events: Event[]): void {
  const view = new DataView(memory);
  new Uint8Array(memory, out, events.length * EVENT_SIZE).fill(0);
  events.forEach((e, i) => {
    const at = out + i * EVENT_SIZE;
    view.setBigUint64(at, e.userdata, true);
    view.setUint16(at + 8, e.error, true);
    view.setUint8(at + 10, e.type);
    if (e.type === EVENTTYPE_CLOCK) return; // "clock events ignore this field"
    view.setBigUint64(at + 16, BigInt(e.nbytes), true);
    view.setUint16(at + 24, e.hangup ? 1 : 0, true);
  });
}
