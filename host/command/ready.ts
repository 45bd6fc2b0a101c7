/**
 * Whether a host fd the guest reads or writes (its stdin, its sockets) is ready, for poll_oneoff
 * (host/command/poll.ts) and for a blocking socket call (host/command/socket-io.ts), without
 * reading any of it: the bytes stay for the guest's fd_read.
 * Pipes, terminals and sockets are asked through one epoll instance of the native shim,
 * created on first use and kept for the command's life; a regular file or /dev/null, which
 * epoll refuses (EPERM), is always readable, as poll(2) says.
 *
 * Registrations persist across waits, so a program that polls the same 1,000 sockets again
 * and again costs one epoll_wait per call and no epoll_ctl (docs/WASI.md, "poll_oneoff").
 * Invariants:
 * - Level-triggered: every epoll_wait reports each registered fd's state as it is now, so
 *   nothing is lost between calls and no readiness has to be remembered (or can go stale).
 * - Each wait names the fds it wants (want()); a wanted fd's registration is exactly the
 *   interest asked (EPOLL_CTL_ADD or _MOD only when it differs). An fd registered by an earlier
 *   wait and not wanted now stays registered until epoll reports it: then it is taken off
 *   (EPOLL_CTL_DEL), so a level-triggered fd nobody asks about wakes a wait once, never a spin.
 * - `registered` names only open fds: forget() is called before a host fd is closed, so a
 *   number the kernel reuses for a new socket is registered afresh.
 */
import { fstatSync, readFileSync } from 'node:fs';
import { Errno } from '../errno.ts';
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EVENT_SIZE,
  MAX_EVENTS,
  type Fd,
} from '../kernel/contract.ts';
import { loadNative, type NativeKernel } from '../kernel/native.ts';
import { ABORT_POLL_MS, abortable, checkAborted, holding, releasing, sleep } from './abort.ts';

export interface ReadState {
  error: number;
  /** Bytes known to be readable: exact for a regular file, 0 where the host cannot tell (a
   *  pipe or terminal with input: at least one byte; at end of input: none, with `hangup`). */
  nbytes: number;
  /** The writer or peer has gone (EPOLLHUP / EPOLLRDHUP): at end of input, or soon after. */
  hangup: boolean;
}

export interface Readiness {
  /** The state of `fd` as of the last wait; undefined while it has no input. */
  readable(fd: number): ReadState | undefined;
  /** Whether `fd` (watched for writing) could take bytes as of the last wait. */
  writable(fd: number): ReadState | undefined;
}

/** One host fd to watch: EPOLLIN and/or EPOLLOUT. */
export interface Watch {
  fd: number;
  events: number;
}

/** The epoll_ctl and epoll_wait calls commands on this thread have made (tests count them:
 *  test/helpers/cmd-count.ts). */
export const epollCalls = { ctl: 0, wait: 0 };

export class HostReadiness implements Readiness {
  private kernel: NativeKernel | undefined;
  private epfd = -1 as Fd;
  /** fd -> the interest registered with epoll now (kept across waits). */
  private readonly registered = new Map<number, number>();
  /** The fds the current wait asks about that epoll took. */
  private readonly wanted = new Set<number>();
  /** fd -> its events from the last epoll_wait (wanted fds only; absent: none). */
  private readonly events = new Map<number, number>();
  /** fds of the current wait that epoll would not take: their fixed answer. */
  private readonly fixed = new Map<number, ReadState>();
  private records = new ArrayBuffer(EVENT_SIZE);

  /** Starts a wait on `watches` (duplicates allowed: their events are merged); what an earlier
   *  wait learnt is dropped. */
  want(watches: Watch[]): void {
    const merged = new Map<number, number>();
    for (const w of watches) merged.set(w.fd, (merged.get(w.fd) ?? 0) | w.events);
    this.wanted.clear();
    this.events.clear();
    this.fixed.clear();
    for (const [fd, asked] of merged) {
      // EPOLLRDHUP only with EPOLLIN: it is level-triggered, so a write-only watch on a
      // half-closed socket that has no room would be woken by it over and over, a spin.
      const rc = this.register(fd, (asked & EPOLLIN) !== 0 ? asked | EPOLLRDHUP : asked);
      if (rc === 0) this.wanted.add(fd);
      else if (rc === -Errno.EPERM)
        this.fixed.set(fd, { error: 0, nbytes: bytesLeft(fd), hangup: false });
      else this.fixed.set(fd, { error: -rc, nbytes: 0, hangup: false });
    }
  }

  /** Takes `fd` off epoll before its owner closes it (or stops serving it as stdio). */
  forget(fd: number): void {
    if (!this.registered.delete(fd)) return;
    this.wanted.delete(fd);
    this.events.delete(fd);
    this.ctl(EPOLL_CTL_DEL, fd, 0);
  }

  /** Waits up to `ms` (0: only looks) for a wanted fd to be ready; records every wanted fd's
   *  state. False when it did not wait: nothing wanted is on epoll, or epoll_wait failed (the
   *  caller then sleeps by itself, so a failing epoll cannot turn a wait into a spin). */
  wait(ms: number): boolean {
    return this.wanted.size > 0 && this.collect(Math.ceil(ms));
  }

  readable(fd: number): ReadState | undefined {
    const fixed = this.fixed.get(fd);
    if (fixed !== undefined) return fixed;
    const events = this.events.get(fd) ?? 0;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) === 0) return undefined;
    return { error: 0, nbytes: 0, hangup: (events & (EPOLLHUP | EPOLLRDHUP)) !== 0 };
  }

  writable(fd: number): ReadState | undefined {
    const events = this.events.get(fd) ?? 0;
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) === 0) return undefined;
    return { error: 0, nbytes: 0, hangup: (events & EPOLLHUP) !== 0 };
  }

  /** Sleeps until `fd` has one of `events` (EPOLLIN or EPOLLOUT), for a blocking socket call:
   *  in epoll_wait, never a spin. The fds of earlier waits stay registered (level-triggered,
   *  they lose nothing; one that fires meanwhile is taken off, as any fd not wanted). */
  block(fd: Fd, events: number): void {
    this.want([{ fd, events }]);
    if (!this.wanted.has(fd)) {
      sleep(1); // no epoll (no shim, or not pollable): never a hot spin
      return;
    }
    while (!this.events.has(fd)) if (!this.collect(-1)) sleep(1);
  }

  close(): void {
    if (this.epfd >= 0) {
      releasing(this.epfd);
      this.kernel!.close(this.epfd);
    }
    this.epfd = -1 as Fd;
    this.registered.clear();
  }

  /** Makes `fd`'s registration `events`: 0 or -errno. */
  private register(fd: number, events: number): number {
    const now = this.registered.get(fd);
    if (now === events) return 0;
    if (this.epollFd() < 0) return this.epfd;
    let rc = this.ctl(now === undefined ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, events);
    if (rc === -Errno.ENOENT) rc = this.ctl(EPOLL_CTL_ADD, fd, events); // closed by someone else
    if (rc === 0) this.registered.set(fd, events);
    else this.registered.delete(fd);
    return rc;
  }

  private ctl(op: number, fd: number, events: number): number {
    epollCalls.ctl++;
    // The event's data is the fd itself: collect() reads it back from the low half.
    return this.kernel!.epollCtl(this.epfd, op, fd as Fd, events, fd, 0);
  }

  /** The epoll fd, created on first use; -errno (kept in epfd) when it cannot be. */
  private epollFd(): number {
    if (this.epfd >= 0) return this.epfd;
    try {
      this.kernel ??= loadNative();
      this.epfd = this.kernel.epollCreate();
      holding(this.epfd);
    } catch {
      this.epfd = -Errno.ENOTSUP as Fd; // no native shim: stdin cannot be polled
    }
    return this.epfd;
  }

  /** One epoll_wait up to `timeoutMs`; records each wanted fd's events and takes off the
   *  fds that fired unwanted. False if it failed. */
  private collect(timeoutMs: number): boolean {
    const max = Math.min(Math.max(this.registered.size, 1), MAX_EVENTS);
    if (this.records.byteLength < max * EVENT_SIZE)
      this.records = new ArrayBuffer(max * EVENT_SIZE);
    this.events.clear();
    epollCalls.wait++;
    // Where the command can be aborted, no wait is longer than ABORT_POLL_MS (abort.ts).
    const ms = !abortable()
      ? timeoutMs
      : timeoutMs < 0
        ? ABORT_POLL_MS
        : Math.min(timeoutMs, ABORT_POLL_MS);
    const n = this.kernel!.epollWait(this.epfd, this.records, 0, max, ms);
    checkAborted();
    const view = new DataView(this.records);
    for (let i = 0; i < n; i++) {
      // A packed record: events u32 @0, data u64 @4 (its low half is the fd, see ctl()).
      const fd = view.getUint32(i * EVENT_SIZE + 4, true);
      if (this.wanted.has(fd)) this.events.set(fd, view.getUint32(i * EVENT_SIZE, true));
      else this.forget(fd);
    }
    return n >= 0;
  }
}

/** For a regular file: the bytes between the fd's offset and the end; otherwise 0. The offset
 *  is the kernel's (/proc/self/fdinfo), so input a parent already consumed is not counted. */
function bytesLeft(fd: number): number {
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return 0;
    const pos = Number(
      /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? 0,
    );
    return Math.max(stat.size - pos, 0);
  } catch {
    return 0;
  }
}
