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
 * A wait is: begin(), want() per watched fd, commit(), then wait() and events() per fd.
 * Invariants:
 * - Level-triggered: every epoll_wait reports each registered fd's state as it is now, so
 *   nothing is lost between calls and no readiness has to be remembered (or can go stale).
 * - Each wait names the fds it wants; a wanted fd's registration is exactly the interest asked
 *   (EPOLL_CTL_ADD or _MOD only when it differs). An fd registered by an earlier wait and not
 *   wanted now stays registered until epoll reports it: then it is taken off (EPOLL_CTL_DEL),
 *   so a level-triggered fd nobody asks about wakes a wait once, never a spin.
 * - `registered` names only open fds: forget() is called before a host fd is closed, so a
 *   number the kernel reuses for a new socket is registered afresh.
 * - Allocation-free in steady state: per-fd state lives in typed arrays indexed by host fd and
 *   stamped with the wait's generation (`wait`), so starting a wait clears nothing.
 */
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
import { FdStates, fixedReadState, type ReadState } from './fd-states.ts';

export type { ReadState } from './fd-states.ts';

/** The events that make a read ready (data, end of input, an error) and a write ready. */
export const READ_READY = EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR;
export const WRITE_READY = EPOLLOUT | EPOLLHUP | EPOLLERR;

/** The epoll_ctl and epoll_wait calls commands on this thread have made (tests count them:
 *  test/helpers/cmd-count.ts). */
export const epollCalls = { ctl: 0, wait: 0 };

export class HostReadiness {
  private kernel: NativeKernel | undefined;
  private epfd = -1 as Fd;
  private readonly fds = new FdStates();
  /** The wait in progress; per-fd stamps equal to it belong to this wait. */
  private wait_ = 1;
  /** The fds this wait wants, in the order first asked (want()); `wantedCount` of them. */
  private wanted = new Int32Array(16);
  private wantedCount = 0;
  /** How many wanted fds epoll took (commit()): wait() has nothing to wait on without one. */
  private onEpoll = 0;
  /** fds of the current wait that epoll would not take: their fixed answer (rare: files). */
  private readonly fixed = new Map<number, ReadState>();
  private records = new ArrayBuffer(EVENT_SIZE);
  private recordView = new DataView(this.records);
  /** How many records `records` holds: kept, as byteLength is a builtin call per wait. */
  private recordsRoom = 1;
  /** Changes whenever the wanted set, a registration or stdio's host fds may have changed
   *  (begin(), forget()): while it stays the same, the last commit()'s wait can be waited on
   *  again (resume()), as poll_oneoff's fast path does (host/command/poll.ts). */
  generation = 0;

  /** Starts a wait: what an earlier wait learnt is dropped. */
  begin(): void {
    this.generation++;
    this.wait_ = this.fds.nextWait(this.wait_);
    this.fds.nextEpollWait();
    this.wantedCount = 0;
    this.onEpoll = 0;
    if (this.fixed.size > 0) this.fixed.clear();
  }

  /** This wait watches `fd` for `events` (EPOLLIN and/or EPOLLOUT); repeats are merged. */
  want(fd: number, events: number): void {
    const fds = this.fds.reserve(fd);
    if (fds.wantedIn[fd] === this.wait_) {
      fds.wantedEvents[fd]! |= events;
      return;
    }
    fds.wantedIn[fd] = this.wait_;
    fds.wantedEvents[fd] = events;
    if (this.wantedCount === this.wanted.length) {
      const grown = new Int32Array(this.wanted.length * 2);
      grown.set(this.wanted);
      this.wanted = grown;
    }
    this.wanted[this.wantedCount++] = fd;
  }

  /** Registers every wanted fd with its merged interest (epoll_ctl only where it changed). */
  commit(): void {
    const fds = this.fds;
    for (let i = 0; i < this.wantedCount; i++) {
      const fd = this.wanted[i]!;
      const asked = fds.wantedEvents[fd]!;
      // EPOLLRDHUP only with EPOLLIN: it is level-triggered, so a write-only watch on a
      // half-closed socket that has no room would be woken by it over and over, a spin.
      const rc = this.register(fd, (asked & EPOLLIN) !== 0 ? asked | EPOLLRDHUP : asked);
      if (rc === 0) this.onEpoll++;
      else {
        fds.wantedIn[fd] = 0; // not on epoll: its answer is fixed
        this.fixed.set(fd, fixedReadState(fd, rc));
      }
    }
  }

  /** Waits again on the wanted fds of the last commit() (the generation unchanged since):
   *  only the last epoll_wait's events are dropped; no want(), no commit(). */
  resume(): void {
    this.fds.nextEpollWait();
  }

  /** Takes `fd` off epoll before its owner closes it (or stops serving it as stdio). */
  forget(fd: number): void {
    this.generation++;
    if (!this.fds.unregister(fd)) return;
    this.ctl(EPOLL_CTL_DEL, fd, 0);
  }

  /** Waits up to `ms` (0: only looks, -1: no limit) for a wanted fd to be ready; records each
   *  wanted fd's state. False when it did not wait: nothing wanted is on epoll, or epoll_wait
   *  failed (the caller then sleeps by itself, so a failing epoll cannot turn a wait into a
   *  spin). */
  wait(ms: number): boolean {
    return this.onEpoll > 0 && this.collect(Math.ceil(ms));
  }

  /** `fd`'s epoll events from this wait's last epoll_wait; 0 when it reported none. */
  events(fd: number): number {
    return this.fds.eventsOf(fd);
  }

  /** Whether any wanted fd of this wait has a fixed answer (fixedState). */
  hasFixed(): boolean {
    return this.fixed.size > 0;
  }

  /** The fixed answer for a wanted fd that epoll would not take; undefined for any other. */
  fixedState(fd: number): ReadState | undefined {
    return this.fixed.size === 0 ? undefined : this.fixed.get(fd);
  }

  /** Sleeps until `fd` has one of `events` (EPOLLIN or EPOLLOUT), for a blocking socket call:
   *  in epoll_wait, never a spin. The fds of earlier waits stay registered (level-triggered,
   *  they lose nothing; one that fires meanwhile is taken off, as any fd not wanted). */
  block(fd: Fd, events: number): void {
    this.begin();
    this.want(fd, events);
    this.commit();
    if (this.onEpoll === 0) {
      sleep(1); // no epoll (no shim, or not pollable): never a hot spin
      return;
    }
    while (this.events(fd) === 0) if (!this.collect(-1)) sleep(1);
  }

  close(): void {
    if (this.epfd >= 0) {
      releasing(this.epfd);
      this.kernel!.close(this.epfd);
    }
    this.epfd = -1 as Fd;
    this.fds.clear();
  }

  /** Makes `fd`'s registration `events`: 0 or -errno. */
  private register(fd: number, events: number): number {
    const now = this.fds.registeredEvents(fd);
    if (now === events) return 0;
    if (this.epollFd() < 0) return this.epfd;
    let rc = this.ctl(now < 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, events);
    if (rc === -Errno.ENOENT) rc = this.ctl(EPOLL_CTL_ADD, fd, events); // closed by someone else
    if (rc === 0) this.fds.setRegistered(fd, events);
    else this.fds.unregister(fd);
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
    const max = Math.min(Math.max(this.fds.registeredCount, 1), MAX_EVENTS);
    if (this.recordsRoom < max) {
      this.records = new ArrayBuffer(max * EVENT_SIZE);
      this.recordView = new DataView(this.records);
      this.recordsRoom = max;
    }
    this.fds.nextEpollWait();
    epollCalls.wait++;
    // Where the command can be aborted, no wait is longer than ABORT_POLL_MS (abort.ts).
    const ms = !abortable()
      ? timeoutMs
      : timeoutMs < 0
        ? ABORT_POLL_MS
        : Math.min(timeoutMs, ABORT_POLL_MS);
    const n = this.kernel!.epollWait(this.epfd, this.records, 0, max, ms);
    checkAborted();
    const view = this.recordView;
    for (let i = 0; i < n; i++) {
      // A packed record: events u32 @0, data u64 @4 (its low half is the fd, see ctl()).
      const fd = view.getUint32(i * EVENT_SIZE + 4, true);
      if (this.fds.wantedIn[fd] === this.wait_)
        this.fds.setEvents(fd, view.getUint32(i * EVENT_SIZE, true));
      else this.forget(fd);
    }
    return n >= 0;
  }
}
