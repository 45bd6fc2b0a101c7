/**
 * Whether a host fd the guest reads or writes (its stdin, its sockets) is ready, for poll_oneoff
 * (host/command/poll.ts) and for a blocking socket call (host/command/socket-io.ts), without
 * reading any of it: the bytes stay for the guest's fd_read.
 * Pipes, terminals and sockets are asked through one epoll instance of the native shim,
 * created on first use and kept for the command's life; a regular file or /dev/null, which
 * epoll refuses (EPERM), is always readable, as poll(2) says.
 *
 * Invariant: only the fds of the current poll_oneoff call, or the one fd a blocking call waits
 * on, are registered (watch() ... unwatch()), so a level-triggered fd nobody asked about cannot
 * wake a sleep over and over.
 */
import { fstatSync, readFileSync } from 'node:fs';
import { Errno } from '../errno.ts';
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
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
import { sleeper } from './stdio.ts';

export interface ReadState {
  error: number;
  /** Bytes known to be readable: exact for a regular file, 0 where the host cannot tell (a
   *  pipe or terminal with input: at least one byte; at end of input: none, with `hangup`). */
  nbytes: number;
  /** The writer or peer has gone (EPOLLHUP / EPOLLRDHUP): at end of input, or soon after. */
  hangup: boolean;
}

export interface Readiness {
  /** The state of `fd` as of the last refresh(); undefined while it has no input. */
  readable(fd: number): ReadState | undefined;
  /** Whether `fd` (watched for writing) could take bytes as of the last refresh(). */
  writable(fd: number): ReadState | undefined;
}

/** One host fd to watch: EPOLLIN and/or EPOLLOUT. */
export interface Watch {
  fd: number;
  events: number;
}

export class HostReadiness implements Readiness {
  private kernel: NativeKernel | undefined;
  private epfd = -1 as Fd;
  /** fd -> epoll events as of the last refresh(), for the fds registered with epoll. */
  private readonly polled = new Map<number, number>();
  /** fds epoll would not take: their fixed answer. */
  private readonly fixed = new Map<number, ReadState>();
  private records = new ArrayBuffer(EVENT_SIZE);

  /** Registers the fds of one poll_oneoff call (duplicates allowed: their events are merged). */
  watch(watches: Watch[]): void {
    const merged = new Map<number, number>();
    for (const w of watches) merged.set(w.fd, (merged.get(w.fd) ?? 0) | w.events);
    const records = Math.min(Math.max(merged.size, 1), MAX_EVENTS) * EVENT_SIZE;
    if (this.records.byteLength < records) this.records = new ArrayBuffer(records);
    for (const [fd, asked] of merged) {
      // the host's own stdio fds, and the command's sockets. EPOLLRDHUP only with EPOLLIN: it
      // is level-triggered, so a write-only watch on a half-closed socket that has no room
      // would be woken by it over and over, a spin.
      const events = (asked & EPOLLIN) !== 0 ? asked | EPOLLRDHUP : asked;
      const rc =
        this.epollFd() < 0
          ? this.epfd
          : this.kernel!.epollCtl(this.epfd, EPOLL_CTL_ADD, fd as Fd, events, fd, 0);
      if (rc === 0) this.polled.set(fd, 0);
      else if (rc === -Errno.EPERM)
        this.fixed.set(fd, { error: 0, nbytes: bytesLeft(fd), hangup: false });
      else this.fixed.set(fd, { error: -rc, nbytes: 0, hangup: false });
    }
  }

  unwatch(): void {
    for (const fd of this.polled.keys())
      this.kernel!.epollCtl(this.epfd, EPOLL_CTL_DEL, fd as Fd, 0, 0, 0);
    this.polled.clear();
    this.fixed.clear();
  }

  /** Reads the registered fds' state now, without waiting. */
  refresh(): void {
    if (this.polled.size > 0) this.collect(0);
  }

  /** Sleeps up to `ms` or until a registered fd has input. False when it did not sleep:
   *  nothing is registered with epoll, or epoll_wait failed (the caller then sleeps by itself,
   *  so a failing epoll cannot turn the wait into a spin). */
  sleep(ms: number): boolean {
    return this.polled.size > 0 && this.collect(Math.ceil(ms));
  }

  readable(fd: number): ReadState | undefined {
    const fixed = this.fixed.get(fd);
    if (fixed !== undefined) return fixed;
    const events = this.polled.get(fd) ?? 0;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) === 0) return undefined;
    return { error: 0, nbytes: 0, hangup: (events & (EPOLLHUP | EPOLLRDHUP)) !== 0 };
  }

  writable(fd: number): ReadState | undefined {
    const events = this.polled.get(fd) ?? 0;
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) === 0) return undefined;
    return { error: 0, nbytes: 0, hangup: (events & EPOLLHUP) !== 0 };
  }

  /** Sleeps until `fd` has one of `events` (EPOLLIN or EPOLLOUT), for a blocking socket call:
   *  in epoll_wait, never a spin. Only when nothing else is watched. */
  block(fd: Fd, events: number): void {
    this.watch([{ fd, events }]);
    try {
      while (this.polled.size > 0 && this.polled.get(fd) === 0) {
        if (!this.collect(-1)) Atomics.wait(sleeper, 0, 0, 1);
      }
      if (this.polled.size === 0) Atomics.wait(sleeper, 0, 0, 1); // no epoll: never a hot spin
    } finally {
      this.unwatch();
    }
  }

  close(): void {
    if (this.epfd >= 0) this.kernel!.close(this.epfd);
    this.epfd = -1 as Fd;
  }

  /** The epoll fd, created on first use; -errno (kept in epfd) when it cannot be. */
  private epollFd(): number {
    if (this.epfd >= 0) return this.epfd;
    try {
      this.kernel ??= loadNative();
      this.epfd = this.kernel.epollCreate();
    } catch {
      this.epfd = -Errno.ENOTSUP as Fd; // no native shim: stdin cannot be polled
    }
    return this.epfd;
  }

  /** epoll_wait up to `timeoutMs`; records each registered fd's events. False if it failed. */
  private collect(timeoutMs: number): boolean {
    for (const fd of this.polled.keys()) this.polled.set(fd, 0);
    const max = Math.min(this.polled.size, MAX_EVENTS);
    const n = this.kernel!.epollWait(this.epfd, this.records, 0, max, timeoutMs);
    const view = new DataView(this.records);
    for (let i = 0; i < n; i++) {
      // A packed record: events u32 @0, data u64 @4 (its low half is the fd, see watch()).
      this.polled.set(
        view.getUint32(i * EVENT_SIZE + 4, true),
        view.getUint32(i * EVENT_SIZE, true),
      );
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
