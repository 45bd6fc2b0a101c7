/**
 * wasmloop's own poll_oneoff for WASI commands (host/command/command.ts), the same on both backends:
 * @wasmer/wasi traps (`unreachable`) on stdio subscriptions and node:wasi mislabels a bad fd's
 * event and never wakes for an absolute monotonic time. The layout is in
 * host/command/poll-table.ts.
 *
 * Each subscription is given a kind once per call (Kind, poll-sockets.ts), after which the
 * call can say, without blocking, whether it has fired; the call waits (asleep: epoll_wait on
 * the watched fds or Atomics.wait, never a spin) until at least one has, then reports every one
 * that has. Sources: clocks, the host's stdio, fds the backend owns (files: always ready, as
 * the spec says of regular files), and the command's sockets (host/command/poll-sockets.ts),
 * over the same epoll instance (host/command/ready.ts).
 *
 * The hot path of a network program (one call per wake-up): subscriptions decoded straight
 * from guest memory into a PollTable kept for the command's life, one epoll_wait, events
 * written straight into the guest's array; no object, closure or Promise per call. A call
 * whose subscriptions name the same fds as the last one's, with no fd, wait or limit changed
 * since, reuses the last call's kinds and registrations (reclassify, docs/WASI.md).
 */
import { Errno } from '../errno.ts';
import { sleep } from './abort.ts';
import {
  fits,
  takesUnsigned,
  type StdioFds,
  type WasiFunction,
  type WasiFunctions,
} from './stdio.ts';
import type { FdTable } from './fd-table.ts';
import { viewOf } from './memview.ts';
import { Kind, socketFired, watchSocket, type SocketPoll } from './poll-sockets.ts';
import {
  DECODE_INVALID,
  DECODE_SAME,
  EVENT_SIZE,
  EVENTTYPE_CLOCK,
  EVENTTYPE_FD_WRITE,
  PollTable,
  SUBSCRIPTION_SIZE,
} from './poll-table.ts';
import { READ_READY, type HostReadiness } from './ready.ts';
import { EPOLLHUP, EPOLLIN, EPOLLRDHUP } from '../kernel/contract.ts';

/** clockid: realtime, monotonic, process_cputime_id, thread_cputime_id. */
const CLOCK_IDS = 4;
/** The most subscriptions one call takes. The host keeps a table row per subscription, so
 *  without a bound a guest with a 4 GiB memory could make the host hold 89 million of them;
 *  real programs poll a few fds and a timer. More is ENOMEM (the host will not hold them),
 *  before any is read. */
export const MAX_SUBSCRIPTIONS = 65536;
/** The longest single sleep before a deadline: the clocks are looked at again at least this
 *  often. Without a deadline epoll is asked with no timeout (FOREVER): the shim then reads no
 *  clock of its own around epoll_wait, which it does for any timeout (host/native/net.c). */
const MAX_SLEEP_MS = 1000;
const FOREVER = -1;

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

/** A poll_oneoff(in, out, nsubscriptions, nevents) over `deps`; its arguments are read as u32
 *  here (it is exempt from withUnsignedArgs' wrapper, which allocates per call). */
export function createPollOneoff(deps: PollDeps): WasiFunction {
  const table = new PollTable();
  // Every argument is an i32, which wasm hands over as a number: `>>> 0` makes it a u32.
  const pollOneoff = (inPtr: number, outPtr: number, count: number, neventsPtr: number) => {
    const from = inPtr >>> 0;
    const to = outPtr >>> 0;
    const n = count >>> 0;
    const nevents = neventsPtr >>> 0;
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
    table.ensure(n);
    // Every subscription is read before anything is written to the event area: the guest
    // may pass overlapping ranges, and the backend calls below use each event slot as scratch.
    const decoded = table.decode(viewOf(memory), from, n);
    if (decoded === DECODE_INVALID) return Errno.EINVAL; // not a preview1 type
    const deadline =
      decoded === DECODE_SAME && unchangedSince(deps, table)
        ? reclassify(deps, table, n, to)
        : classifyAll(deps, table, n, to);
    // No guest code runs during the call, so `memory` is still the buffer: events are
    // written straight into it as each subscription is found to have fired.
    const view = viewOf(memory);
    table.startAnswers(view, to);
    waitForAny(deps, table, n, deadline);
    view.setUint32(nevents, table.firedCount, true);
    return Errno.ESUCCESS;
  };
  return takesUnsigned(pollOneoff as WasiFunction);
}

/** Gives each subscription its kind and registers what epoll is to watch; returns the
 *  earliest clock deadline (performance.now() time; Infinity without one). Notes in `table`
 *  what the kinds were made from, for the next call's fast path (reclassify). */
function classifyAll(deps: PollDeps, table: PollTable, n: number, to: number): number {
  const readiness = deps.readiness;
  readiness.begin();
  table.answerBeforeWait = false;
  if (table.socket.length > n) table.socket.length = n; // hold no socket of an older call
  let deadline = Infinity;
  for (let i = 0; i < n; i++) {
    table.socket[i] = undefined;
    if (table.type[i] === EVENTTYPE_CLOCK) deadline = clockDeadline(deps, table, i, to, deadline);
    else classifyFd(deps, table, i, to + i * EVENT_SIZE);
  }
  readiness.commit();
  table.classifiedN = n;
  table.fdVersion = deps.fds.version;
  table.atLimit = deps.sockets.atLimit();
  // A file epoll refused has an answer fixed at commit (its bytes left): never reused.
  table.readinessGeneration = readiness.hasFixed() ? -1 : readiness.generation;
  if (readiness.hasFixed()) table.answerBeforeWait = true;
  return deadline;
}

/** Whether the kinds, host fds, sockets and registrations of the last classifyAll still hold:
 *  no fd opened, closed or renumbered since (the fd table's version), no other wait begun and
 *  no fd taken off epoll or out of stdio (the readiness generation: a blocking socket call's
 *  wait, say), and max-connections neither reached nor left. */
function unchangedSince(deps: PollDeps, table: PollTable): boolean {
  return (
    table.fdVersion === deps.fds.version &&
    table.readinessGeneration === deps.readiness.generation &&
    table.atLimit === deps.sockets.atLimit()
  );
}

/**
 * The fast path of a call whose subscriptions name the same types and fds as the last one's,
 * with nothing changed since (unchangedSince): the same epoll wait is waited on again, with no
 * fd table lookup and no want()/commit(). Only what can differ between two such calls is
 * looked at: each clock afresh (its deadline counts from this call), and whether a fixed
 * answer or a connection's bytes read ahead (or end of input) can fire before epoll is asked.
 */
function reclassify(deps: PollDeps, table: PollTable, n: number, to: number): number {
  deps.readiness.resume();
  table.answerBeforeWait = false;
  let deadline = Infinity;
  for (let i = 0; i < n; i++) {
    const kind = table.kind[i];
    if (table.type[i] === EVENTTYPE_CLOCK) deadline = clockDeadline(deps, table, i, to, deadline);
    else if (kind === Kind.now) table.answerBeforeWait = true;
    else if (kind === Kind.connection) {
      const socket = table.socket[i]!;
      if (socket.pendingLength > 0 || socket.eof) table.answerBeforeWait = true;
    }
  }
  return deadline;
}

/** Classifies clock subscription `i` (its event slot in the area at `to` as scratch); the
 *  earlier of `deadline` and its own. */
function clockDeadline(
  deps: PollDeps,
  table: PollTable,
  i: number,
  to: number,
  deadline: number,
): number {
  clock(deps, table, i, to + i * EVENT_SIZE);
  return table.kind[i] === Kind.clock ? Math.min(deadline, table.deadline[i]!) : deadline;
}

function fixed(table: PollTable, i: number, errno: number): void {
  table.answerBeforeWait = true;
  table.kind[i] = Kind.now;
  table.errno[i] = errno;
}

/** An FD_READ or FD_WRITE subscription; `scratch` (its event slot, 32 bytes the guest gave us
 *  to write) holds what the backend's functions return. */
function classifyFd(deps: PollDeps, table: PollTable, i: number, scratch: number): void {
  const write = table.type[i] === EVENTTYPE_FD_WRITE;
  const entry = deps.fds.get(table.arg[i]!);
  if (entry === undefined) return fixed(table, i, Errno.EBADF);
  if (entry.socket) return watchSocket(deps.sockets, table, i, entry.socket, write);
  const fd = entry.backend;
  const hostFd = deps.stdio.hostFd(fd);
  if (hostFd !== undefined) {
    // Writes to stdout and stderr never fail with EAGAIN (command-stdio.ts waits it out), so
    // they are ready at once; nbytes is 0: how much a pipe would take is not known.
    if (write) return fixed(table, i, Errno.ESUCCESS);
    table.kind[i] = Kind.stdin;
    table.hostFd[i] = hostFd;
    deps.readiness.want(hostFd, EPOLLIN);
    return;
  }
  // Anything else is the backend's: a bad fd is an EBADF event; a file it opened is ready.
  fixed(table, i, Number(deps.backend.fd_fdstat_get?.(fd, scratch) ?? Errno.EBADF));
}

/**
 * A clock subscription. Deadlines are kept on performance.now(); an absolute timeout is
 * turned into one by reading the same clock the guest reads (the backend's clock_time_get).
 * The CPU-time clocks do not advance while a command sleeps here, so read literally they
 * would never fire: their timeouts are waited out as elapsed time (docs/WASI.md).
 */
function clock(deps: PollDeps, table: PollTable, i: number, scratch: number): void {
  const clockId = table.arg[i]!;
  if (clockId >= CLOCK_IDS) return fixed(table, i, Errno.EINVAL);
  let waitNs = table.timeout(i);
  if (table.absolute[i] !== 0) {
    const errno = Number(deps.backend.clock_time_get?.(clockId, 0n, scratch) ?? Errno.ENOSYS);
    if (errno !== Errno.ESUCCESS) return fixed(table, i, errno);
    waitNs -= viewOf(deps.memory()).getBigUint64(scratch, true);
  }
  table.kind[i] = Kind.clock;
  table.deadline[i] = performance.now() + (waitNs > 0n ? Number(waitNs) / 1e6 : 0);
}

/**
 * Sleeps until at least one subscription has fired; marks all that have.
 * One epoll_wait per call when something is ready or becomes ready before the first deadline.
 * Where something can have fired without epoll (answerBeforeWait: a fixed answer, bytes read
 * ahead), every subscription is asked first and epoll is then asked once without sleeping;
 * otherwise (the common case: sockets with nothing read ahead) that first pass would find
 * nothing, so epoll is asked at once, sleeping until the first deadline at most. A clock that
 * is already due makes that sleep 0 and fires in the pass after it.
 */
function waitForAny(deps: PollDeps, table: PollTable, n: number, deadline: number): void {
  const readiness = deps.readiness;
  let fired = table.answerBeforeWait ? firedNow(deps, table, n) : 0;
  for (;;) {
    const ms = fired > 0 ? 0 : sleepFor(deadline);
    if (!readiness.wait(ms)) {
      if (fired > 0) return; // nothing on epoll: the first answer is the answer
      sleep(ms === FOREVER ? MAX_SLEEP_MS : ms); // never a spin, never a sleep past a deadline
    }
    fired = firedNow(deps, table, n);
    if (fired > 0) return;
  }
}

/** How long a wait may sleep before `deadline` (performance.now() time), FOREVER without
 *  one: no clock is read then (a wake-up of a network program reads none). */
function sleepFor(deadline: number): number {
  if (deadline === Infinity) return FOREVER;
  return Math.min(Math.max(deadline - performance.now(), 0), MAX_SLEEP_MS);
}

/** Asks every subscription whether it has fired now, each that has writing its event; how
 *  many have (the events of an earlier pass are overwritten). */
function firedNow(deps: PollDeps, table: PollTable, n: number): number {
  table.firedCount = 0;
  for (let i = 0; i < n; i++) hasFired(deps, table, i);
  return table.firedCount;
}

function hasFired(deps: PollDeps, table: PollTable, i: number): boolean {
  switch (table.kind[i]) {
    case Kind.now:
      return table.fire(i, table.errno[i]!, 0, false);
    case Kind.never:
      return false;
    case Kind.clock:
      return performance.now() >= table.deadline[i]! && table.fire(i, 0, 0, false);
    case Kind.stdin:
      return stdinFired(deps.readiness, table, i);
    default:
      return socketFired(deps.sockets.host, table, i);
  }
}

/** A read on a host stdio fd: epoll's events, or the fixed answer for a file epoll refused. */
function stdinFired(readiness: HostReadiness, table: PollTable, i: number): boolean {
  const fd = table.hostFd[i]!;
  const state = readiness.fixedState(fd);
  if (state !== undefined) return table.fire(i, state.error, state.nbytes, state.hangup);
  const events = readiness.events(fd);
  if ((events & READ_READY) === 0) return false;
  return table.fire(i, 0, 0, (events & (EPOLLHUP | EPOLLRDHUP)) !== 0);
}
