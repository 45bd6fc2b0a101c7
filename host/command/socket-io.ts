/**
 * The bytes of a WASI command's sockets (host/command/sockets.ts): accept, recv into the guest's
 * iovecs and send from them, over the Kernel (every host socket is non-blocking, opened by the
 * native shim). A descriptor the guest sees as blocking blocks here by sleeping in epoll_wait on
 * that one fd (HostReadiness.block), never by spinning; a non-blocking one returns EAGAIN.
 *
 * Invariant: `Socket.pending` holds bytes already taken from the kernel but not yet given to the
 * guest (read ahead by poll_oneoff, to report nbytes, or by a RECV_PEEK); every read serves them
 * first, so the guest sees its stream in order and whole.
 */
import { Errno } from '../errno.ts';
import { holding } from './abort.ts';
import { EPOLLIN, EPOLLOUT, type Fd, type Kernel } from '../kernel/contract.ts';
import type { HostReadiness } from './ready.ts';
import { fits } from './stdio.ts';

/** The most bytes one read-ahead takes from the kernel. */
const READ_AHEAD = 64 * 1024;

export class Socket {
  /** Bytes read from the kernel that the guest has not had yet. */
  pending: Uint8Array = new Uint8Array(0);
  /** A read-ahead met the end of input (the peer shut down its side). */
  eof = false;
  constructor(
    readonly fd: Fd,
    readonly listener: boolean,
    /** FDFLAGS_NONBLOCK as the guest set it; the host fd itself is always non-blocking. */
    public nonblock: boolean,
  ) {}
}

/** What the socket calls need from the command around them. */
export interface SocketHost {
  kernel: Kernel;
  readiness: HostReadiness;
  memory(): ArrayBuffer;
}

export interface Iovec {
  ptr: number;
  len: number;
}

/** The guest's iovec array (8 bytes each: ptr u32, len u32); undefined when any of it, or any
 *  buffer it names, lies outside memory (EFAULT). */
export function readIovecs(memory: ArrayBuffer, at: number, count: number): Iovec[] | undefined {
  if (!fits(memory, at, count * 8)) return undefined;
  const view = new DataView(memory);
  const out: Iovec[] = [];
  for (let i = 0; i < count; i++) {
    const iov = {
      ptr: view.getUint32(at + i * 8, true),
      len: view.getUint32(at + i * 8 + 4, true),
    };
    if (!fits(memory, iov.ptr, iov.len)) return undefined;
    out.push(iov);
  }
  return out;
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

/** Copies pending bytes into `iovecs`; consumes them unless `peek`. */
function takePending(host: SocketHost, sock: Socket, iovecs: Iovec[], peek: boolean): number {
  const memory = new Uint8Array(host.memory());
  let n = 0;
  for (const iov of iovecs) {
    const part = sock.pending.subarray(n, n + iov.len);
    memory.set(part, iov.ptr);
    n += part.length;
    if (n === sock.pending.length) break;
  }
  if (!peek) sock.pending = sock.pending.subarray(n);
  return n;
}

/** One read-ahead buffer per thread: a command runs on one thread, and concat copies out of it
 *  before the next recv. A fresh 64 KiB per read-ahead was zero-filled and collected on every
 *  wake-up (15 % of samples in the C example's profile, docs/PERFORMANCE.md). */
const readAheadScratch = new ArrayBuffer(READ_AHEAD);

/** Reads ahead into `pending` once: > 0 bytes, 0 at end of input, or -errno (-EAGAIN: none
 *  now; a blocking socket waits for some instead). */
export function readAhead(host: SocketHost, sock: Socket, wait: boolean): Result {
  for (;;) {
    const n = host.kernel.recv(sock.fd, readAheadScratch, 0, READ_AHEAD);
    if (n > 0) sock.pending = concat(sock.pending, new Uint8Array(readAheadScratch, 0, n));
    if (n === 0) sock.eof = true;
    if (n !== -Errno.EAGAIN || !wait) return n;
    host.readiness.block(sock.fd, EPOLLIN);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The iovecs from byte `skip` on (the part a read has not filled yet). */
function after(iovecs: Iovec[], skip: number): Iovec[] {
  const out: Iovec[] = [];
  for (const iov of iovecs) {
    if (skip >= iov.len) skip -= iov.len;
    else {
      out.push({ ptr: iov.ptr + skip, len: iov.len - skip });
      skip = 0;
    }
  }
  return out;
}

/**
 * recv into `iovecs`: like recv(2) on a stream socket, it returns once some bytes are there
 * (all of them with `waitAll`, unless the input ends first), 0 at end of input. `peek` leaves
 * the bytes for the next read.
 */
export function recvInto(
  host: SocketHost,
  sock: Socket,
  iovecs: Iovec[],
  flags: { peek: boolean; waitAll: boolean },
): Result {
  const total = iovecs.reduce((sum, iov) => sum + iov.len, 0);
  if (total === 0) return 0;
  if (flags.peek) {
    if (sock.pending.length === 0 && !sock.eof) {
      const n = readAhead(host, sock, !sock.nonblock);
      if (n < 0) return n;
    }
    return takePending(host, sock, iovecs, true);
  }
  let got = takePending(host, sock, iovecs, false);
  while (got < total && (got === 0 || flags.waitAll)) {
    const n = recvOnce(host, sock, after(iovecs, got));
    if (n === 0) break; // end of input
    if (n === -Errno.EAGAIN && !sock.nonblock) host.readiness.block(sock.fd, EPOLLIN);
    else if (n < 0)
      return got > 0 ? got : n; // non-blocking: what there is, else EAGAIN
    else got += n;
  }
  return got;
}

/** One recv(2) per iovec, in order, until one is not filled: bytes, 0 at end, or -errno. */
function recvOnce(host: SocketHost, sock: Socket, iovecs: Iovec[]): Result {
  let got = 0;
  for (const iov of iovecs) {
    if (iov.len === 0) continue;
    const n = host.kernel.recv(sock.fd, host.memory(), iov.ptr, iov.len);
    if (n < 0) return got > 0 ? got : n;
    got += n;
    if (n < iov.len) break;
  }
  return got;
}

/** send from `iovecs`. Blocking: every byte, waiting for room (like send(2) on a blocking
 *  socket); non-blocking: what fits now, or -EAGAIN when nothing does. An error after some
 *  bytes went returns their count (the next call sees the error). */
export function sendFrom(host: SocketHost, sock: Socket, iovecs: Iovec[]): Result {
  let sent = 0;
  for (const iov of iovecs) {
    let off = 0;
    while (off < iov.len) {
      const n = host.kernel.send(sock.fd, host.memory(), iov.ptr + off, iov.len - off);
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
