/**
 * Stopping a command that runs in a worker thread (host/command/embed.ts, runCommand from the
 * package): the embedder's AbortSignal sets a shared word, and every place a command waits
 * looks at it. A command waits in three ways, and each is made to notice:
 *   Atomics.wait (clocks, EAGAIN back-off on stdio)  waits on that word: the main thread's
 *                                                   Atomics.notify wakes it at once
 *   epoll_wait (poll_oneoff, blocking socket calls)  never longer than ABORT_POLL_MS at a time
 *   guest code that never calls the host            the main thread ends the thread with
 *                                                   worker.terminate() after a grace period
 * When the word is set, the wait throws CommandAborted, which unwinds the guest the way
 * proc_exit does, and runCommand's cleanup closes every socket. For the terminate() case, where
 * no cleanup runs on the thread, the host fds the command holds (listeners, sockets, its epoll
 * fd) are marked in a shared table that the main thread closes from after the thread is gone.
 *
 * On the CLI's own thread none of this is set up: waits are as before and cost nothing more.
 */

/** The longest one epoll_wait sleeps while a command can be aborted. */
export const ABORT_POLL_MS = 50;
/** Host fds below this are tracked for the main thread (above: not; then a terminate() could
 *  leave them open, see docs/EMBEDDING.md). */
export const TRACKED_FDS = 65536;

/** Thrown by a wait once the command is asked to stop. Not an Error: like proc_exit's, it only
 *  unwinds the guest. */
export class CommandAborted {}

/** What the main thread shares with the command's thread. */
export interface AbortShared {
  /** One Int32: 0 while running, 1 once asked to stop. */
  control: SharedArrayBuffer;
  /** TRACKED_FDS bytes: 1 where the command holds that host fd. */
  fds: SharedArrayBuffer;
}

const local = new Int32Array(new SharedArrayBuffer(4));
let control: Int32Array | undefined;
let held: Uint8Array | undefined;

/** Called once on a command's worker thread, before the command starts. */
export function useAbort(shared: AbortShared): void {
  control = new Int32Array(shared.control);
  held = new Uint8Array(shared.fds);
}

export function newAbortShared(): AbortShared {
  return { control: new SharedArrayBuffer(4), fds: new SharedArrayBuffer(TRACKED_FDS) };
}

/** True when the command runs where it can be aborted (its epoll waits are then bounded). */
export function abortable(): boolean {
  return control !== undefined;
}

/** Throws CommandAborted once the command is asked to stop. */
export function checkAborted(): void {
  if (control !== undefined && Atomics.load(control, 0) !== 0) throw new CommandAborted();
}

/** Sleeps `ms` (woken early by an abort, which then throws). */
export function sleep(ms: number): void {
  Atomics.wait(control ?? local, 0, 0, ms);
  checkAborted();
}

/** The command now holds host fd `fd`. */
export function holding(fd: number): void {
  if (held !== undefined && fd >= 0 && fd < TRACKED_FDS) held[fd] = 1;
}

/** The command is about to close host fd `fd`: marked free first, so the main thread never
 *  closes a number that has been reused. */
export function releasing(fd: number): void {
  if (held !== undefined && fd >= 0 && fd < TRACKED_FDS) held[fd] = 0;
}

/** The main thread's side: asks the command to stop and wakes an Atomics.wait. */
export function requestAbort(shared: AbortShared): void {
  const word = new Int32Array(shared.control);
  Atomics.store(word, 0, 1);
  Atomics.notify(word, 0);
}

/** The main thread's side, once the thread has ended: the host fds it left open. */
export function leftOpen(shared: AbortShared): number[] {
  const marks = new Uint8Array(shared.fds);
  const out: number[] = [];
  for (let fd = 0; fd < marks.length; fd++) if (marks[fd] !== 0) out.push(fd);
  return out;
}
