/**
 * The bytes of a WASI command's sockets (host/command/sockets.ts): accept, recv into the guest's
 * iovecs and send from them, over the Kernel (every host socket is non-blocking, opened by the
 * native shim). A descriptor the guest sees as blocking blocks here by sleeping in epoll_wait on
 * that one fd (HostReadiness.block), never by spinning; a non-blocking one returns EAGAIN.
 *
 * Invariants:
 * - A socket's pending bytes (`Socket.buf[start, end)`) were taken from the kernel but not yet
 *   given to the guest (read ahead by poll_oneoff, to report nbytes, or by a RECV_PEEK); every
 *   read serves them first, so the guest sees its stream in order and whole. Only an empty
 *   socket reads ahead, so they are never more than one read-ahead (READ_AHEAD bytes).
 * - Steady state allocates nothing: iovecs are walked in guest memory where they lie (their
 *   bounds checked first, by iovecTotal), and a socket's pending buffer is reused, grown only
 *   when a read-ahead is larger than any before (docs/PERFORMANCE.md, "WASI commands").
 */
import { Errno } from '../errno.ts';
import { holding } from './abort.ts';
import { EPOLLIN, EPOLLOUT, type Fd, type Kernel } from '../kernel/contract.ts';
import { bytesOf, copyBytes, viewOf } from './memview.ts';
import type { HostReadiness } from './ready.ts';
import { fits } from './stdio.ts';

/** The most bytes one read-ahead takes from the kernel, and the first read-ahead's size: a
 *  socket reads ahead into a buffer of its own, which starts small and doubles (up to the
 *  most) each time a read-ahead fills it, so an idle or chatty connection holds little and a
 *  bulk one reads big. */
const READ_AHEAD = 64 * 1024;
const FIRST_READ_AHEAD = 4 * 1024;
/** A drained pending buffer larger than this is let go (a connection that once read 64 KiB
 *  ahead should not hold that for its life); smaller ones are kept for the next read-ahead. */
const KEEP_DRAINED = 16 * 1024;
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BYTES.buffer);

export class Socket {
  /** Bytes read from the kernel that the guest has not had yet: buf[start, end). */
  buf = NO_BYTES;
  /** A DataView over `buf`, for copies by words (memview.ts copyBytes). */
  bufView = NO_VIEW;
  /** `buf`'s ArrayBuffer, kept: a typed array's `.buffer` getter is a runtime call. */
  bufBuffer = NO_BYTES.buffer;
  start = 0;
  end = 0;
  /** A read-ahead met the end of input (the peer shut down its side). */
  eof = false;
  /** The size of the next read-ahead. */
  private readAhead = FIRST_READ_AHEAD;
  constructor(
    readonly fd: Fd,
    readonly listener: boolean,
    /** FDFLAGS_NONBLOCK as the guest set it; the host fd itself is always non-blocking. */
    public nonblock: boolean,
  ) {}

  get pendingLength(): number {
    return this.end - this.start;
  }

  /** The buffer the next read-ahead goes into (only an empty socket reads ahead). */
  room(): Uint8Array {
    if (this.buf.length < this.readAhead) {
      this.bufBuffer = new ArrayBuffer(this.readAhead);
      this.buf = new Uint8Array(this.bufBuffer);
      this.bufView = new DataView(this.bufBuffer);
    }
    return this.buf;
  }

  /** A read-ahead put `n` bytes at the start of room(). */
  filled(n: number): void {
    this.start = 0;
    this.end = n;
    if (n === this.buf.length && this.readAhead < READ_AHEAD) this.readAhead *= 2;
  }

  /** Every pending byte has been read. */
  drained(): void {
    this.start = this.end = 0;
    if (this.buf.length > KEEP_DRAINED) {
      this.buf = NO_BYTES;
      this.bufView = NO_VIEW;
      this.bufBuffer = NO_BYTES.buffer;
    }
  }
}

/** What the socket calls need from the command around them. */
export interface SocketHost {
  kernel: Kernel;
  readiness: HostReadiness;
  memory(): ArrayBuffer;
}

/** The total length of the guest's iovec array at `at` (8 bytes each: ptr u32, len u32), or -1
 *  when any of it, or any buffer it names, lies outside memory (EFAULT). */
export function iovecTotal(memory: ArrayBuffer, at: number, count: number): number {
  if (!fits(memory, at, count * 8)) return -1;
  const view = viewOf(memory);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const ptr = view.getUint32(at + i * 8, true);
    const len = view.getUint32(at + i * 8 + 4, true);
    if (!fits(memory, ptr, len)) return -1;
    total += len;
  }
  return total;
}

/** A call's result: bytes moved (>= 0) or -errno. */
type Result = number;

/** accept on a listener, waiting if the guest sees it as blocking: the new host fd or -errno. */
export function acceptOne(host: SocketHost, listener: Socket): Fd {
  for (;;) {
    const fd = host.kernel.accept(listener.fd);
    holding(fd);
    if (fd !== -Errno.EAGAIN || listener.nonblock) return fd;
    host.readiness.block(listener.fd, EPOLLIN);
  }
}

/** Copies pending bytes into the iovecs; consumes them unless `peek`. */
function takePending(host: SocketHost, sock: Socket, iovs: number, count: number, peek: boolean) {
  const memory = host.memory();
  const view = viewOf(memory);
  const bytes = bytesOf(memory);
  let n = 0;
  for (let i = 0; i < count && sock.start + n < sock.end; i++) {
    const from = sock.start + n;
    const len = Math.min(view.getUint32(iovs + i * 8 + 4, true), sock.end - from);
    copyBytes(bytes, view, view.getUint32(iovs + i * 8, true), sock.buf, sock.bufView, from, len);
    n += len;
  }
  if (!peek) {
    sock.start += n;
    if (sock.start === sock.end) sock.drained();
  }
  return n;
}

/** Reads ahead into the (empty) pending bytes once, straight from the kernel into the
 *  socket's own buffer: > 0 bytes, 0 at end of input, or -errno (-EAGAIN: none now; a
 *  blocking socket waits for some instead). */
export function readAhead(host: SocketHost, sock: Socket, wait: boolean): Result {
  for (;;) {
    const room = sock.room();
    const n = host.kernel.recv(sock.fd, sock.bufBuffer, 0, room.length);
    if (n > 0) sock.filled(n);
    if (n === 0) sock.eof = true;
    if (n !== -Errno.EAGAIN || !wait) return n;
    host.readiness.block(sock.fd, EPOLLIN);
  }
}

/**
 * recv into the `count` iovecs at `iovs` (checked by iovecTotal: `total` bytes): like recv(2)
 * on a stream socket, it returns once some bytes are there (all of them with `waitAll`, unless
 * the input ends first), 0 at end of input. `peek` leaves the bytes for the next read.
 */
export function recvInto(
  host: SocketHost,
  sock: Socket,
  iovs: number,
  count: number,
  total: number,
  peek: boolean,
  waitAll: boolean,
): Result {
  if (total === 0) return 0;
  if (peek) {
    if (sock.pendingLength === 0 && !sock.eof) {
      const n = readAhead(host, sock, !sock.nonblock);
      if (n < 0) return n;
    }
    return takePending(host, sock, iovs, count, true);
  }
  let got = takePending(host, sock, iovs, count, false);
  while (got < total && (got === 0 || waitAll)) {
    const n = recvOnce(host, sock, iovs, count, got);
    if (n === 0) break; // end of input
    if (n === -Errno.EAGAIN && !sock.nonblock) host.readiness.block(sock.fd, EPOLLIN);
    else if (n < 0)
      return got > 0 ? got : n; // non-blocking: what there is, else EAGAIN
    else got += n;
  }
  return got;
}

/** One recv(2) per iovec from byte `skip` on (the part a read has not filled yet), in order,
 *  until one is not filled: bytes, 0 at end, or -errno. */
function recvOnce(host: SocketHost, sock: Socket, iovs: number, count: number, skip: number) {
  const memory = host.memory();
  const view = viewOf(memory);
  let got = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(iovs + i * 8 + 4, true);
    if (skip >= len) {
      skip -= len; // filled already (or empty)
      continue;
    }
    const ptr = view.getUint32(iovs + i * 8, true) + skip;
    const want = len - skip;
    skip = 0;
    const n = host.kernel.recv(sock.fd, memory, ptr, want);
    if (n < 0) return got > 0 ? got : n;
    got += n;
    if (n < want) break;
  }
  return got;
}

/** send from the `count` iovecs at `iovs` (checked by iovecTotal). Blocking: every byte,
 *  waiting for room (like send(2) on a blocking socket); non-blocking: what fits now, or
 *  -EAGAIN when nothing does. An error after some bytes went returns their count (the next
 *  call sees the error). */
export function sendFrom(host: SocketHost, sock: Socket, iovs: number, count: number): Result {
  // No guest code runs during the call, so the memory cannot grow under it: one read serves.
  const memory = host.memory();
  const view = viewOf(memory);
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    let off = 0;
    while (off < len) {
      const n = host.kernel.send(sock.fd, memory, ptr + off, len - off);
      if (n > 0) {
        off += n;
        sent += n;
      } else if (n === -Errno.EAGAIN && !sock.nonblock) {
        host.readiness.block(sock.fd, EPOLLOUT);
      } else {
        return sent > 0 ? sent : n;
      }
    }
  }
  return sent;
}
