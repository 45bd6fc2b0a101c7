/**
 * In-memory sockets of the simulated kernel. A `ConnSocket` is one TCP connection seen from
 * the server (the guest's side), holding both byte streams; its remote end is scripted by the
 * test through a `SimPeer` (host/kernel/sim/peer.ts). A `ListenSocket` holds an accept queue.
 *
 * Data moves instantly: there is no network in between, so a byte the peer writes is readable
 * by the server at once, and a byte the server sends lands in the peer's receive buffer at once.
 * The peer's buffer (`tx`) is bounded by its `window`; the server's receive buffer (`rx`) is not.
 *
 * Every state change that can make a socket more ready calls `notify()`, which is the "edge"
 * both the level-triggered ready list and edge-triggered registrations are driven by.
 */
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
} from '../contract.ts';
import type { SockAddr } from '../contract.ts';
import { Errno } from '../../errno.ts';
import { ByteQueue, Queue } from './util.ts';

/** Something watching a socket's readiness: an epoll registration. */
export interface Watcher {
  /** The socket's state changed: re-check readiness. */
  notify(): void;
  /** Unregister from the socket and the epoll instance (the socket is being closed). */
  detach(): void;
}

export abstract class SimSocket {
  /** One watcher per epoll instance this socket is registered with. */
  readonly watchers = new Set<Watcher>();
  /** True once the server closed its descriptor; a closed socket polls as 0. */
  closed = false;

  constructor(readonly local: SockAddr) {}

  /** The current readiness: a mask of EPOLLIN/OUT/ERR/HUP/RDHUP. */
  abstract poll(): number;

  /** getpeername: the remote address, or -ENOTCONN (a listener, a reset connection). */
  peerAddress(): SockAddr | number {
    return -Errno.ENOTCONN;
  }

  /** Wakes every watcher: the socket's state changed in a way that may make it ready. */
  notify(): void {
    for (const w of this.watchers) w.notify();
  }
}

export class ListenSocket extends SimSocket {
  /** Established connections not yet accepted; never longer than `backlog`. */
  readonly queue = new Queue<ConnSocket>();

  constructor(
    local: SockAddr,
    readonly backlog: number,
    readonly reusePort: boolean,
  ) {
    super(local);
  }

  poll(): number {
    return !this.closed && this.queue.length > 0 ? EPOLLIN : 0;
  }

  /** Queues `conn`; false (the peer is refused) when the queue is full or the socket closed. */
  offer(conn: ConnSocket): boolean {
    if (this.closed || this.queue.length >= this.backlog) return false;
    this.queue.push(conn);
    this.notify();
    return true;
  }

  /** Closing a listener resets every connection still waiting in its queue (as Linux does). */
  close(): void {
    this.closed = true;
    for (const conn of this.queue.drain()) {
      conn.resetPeer = true;
      conn.close();
    }
  }
}

export class ConnSocket extends SimSocket {
  /** Peer -> server bytes the server has not read yet. Empty once reset or shut for reading. */
  readonly rx = new ByteQueue();
  /** Server -> peer bytes the peer has not read yet; `tx.length <= window` after each send. */
  readonly tx = new ByteQueue();
  /** Total bytes the server has sent to the peer. */
  sent = 0;
  /** The server's descriptor, -1 until accepted. */
  fd = -1;
  /** Per-connection cap on bytes per recv; overrides the kernel-wide `maxRecv` fault. */
  maxRecv: number | undefined = undefined;

  /** The peer sent FIN: the server reads the queued bytes, then EOF. */
  peerFin = false;
  /** The peer closed its socket: it reads nothing more, so a server send gets EPIPE. */
  peerClosed = false;
  /** The server received an RST: recv/send give ECONNRESET, poll gives ERR|HUP. */
  reset = false;
  /** The server sent into a closed peer, which answered RST: send gives EPIPE, ERR|HUP. */
  broken = false;
  /** Local shutdowns (SHUT_RD, SHUT_WR). */
  rdShut = false;
  wrShut = false;
  /** The server sent the peer an RST (closed with unread data, or a reset listener queue). */
  resetPeer = false;

  /** `remote` is the peer's address, as getpeername reports it. */
  constructor(
    local: SockAddr,
    readonly remote: SockAddr,
    public window: number,
  ) {
    super(local);
  }

  override peerAddress(): SockAddr | number {
    return this.reset ? -Errno.ENOTCONN : { ...this.remote };
  }

  /** The receive side is shut: EOF pending (peer FIN, local SHUT_RD) or reset. */
  rcvShut(): boolean {
    return this.peerFin || this.rdShut || this.reset;
  }

  /** A send would not block: space in the peer's window (or it would fail at once). */
  writable(): boolean {
    if (this.reset || this.broken || this.wrShut) return false;
    return this.peerClosed || this.tx.length < this.window;
  }

  poll(): number {
    if (this.closed) return 0;
    let mask = 0;
    if (this.reset || this.broken) mask |= EPOLLERR | EPOLLHUP;
    if (this.rcvShut()) mask |= EPOLLIN | EPOLLRDHUP;
    if (this.rx.length > 0) mask |= EPOLLIN;
    if (this.rcvShut() && this.wrShut) mask |= EPOLLHUP;
    if (this.writable()) mask |= EPOLLOUT;
    return mask;
  }

  /** Whether the connection can still carry bytes from the peer to the server. */
  private peerCanDeliver(): boolean {
    return !this.closed && !this.reset && !this.rdShut;
  }

  /** Peer write: queued for the server, or dropped (with an RST to the peer) once closed. */
  peerWrite(bytes: Uint8Array): void {
    if (this.closed) this.resetPeer = true;
    if (!this.peerCanDeliver()) return;
    this.rx.push(bytes);
    this.notify();
  }

  /** Peer read: everything the server sent so far; frees window space. */
  peerRead(): Uint8Array {
    const bytes = this.tx.take();
    if (bytes.length > 0) this.notify();
    return bytes;
  }

  peerShutdown(): void {
    this.peerFin = true;
    this.notify();
  }

  /** The peer aborts: both streams are discarded. */
  peerReset(): void {
    if (this.closed) return;
    this.reset = true;
    this.rx.clear();
    this.tx.clear();
    this.notify();
  }

  /** Like Linux, closing with unread bytes sends RST instead of FIN. */
  peerClose(): void {
    if (this.tx.length > 0) return this.peerReset();
    this.peerFin = true;
    this.peerClosed = true;
    this.notify();
  }

  setWindow(bytes: number): void {
    const grew = bytes > this.window;
    this.window = bytes;
    if (grew) this.notify();
  }

  /** Server shutdown(how); the caller has validated `how`. */
  shutdown(how: number): void {
    if (how === SHUT_RD || how === SHUT_RDWR) {
      this.rdShut = true;
      this.rx.clear();
    }
    if (how === SHUT_WR || how === SHUT_RDWR) this.wrShut = true;
    this.notify();
  }

  /** Server close: RST to the peer if unread bytes remain (Linux rule), otherwise FIN. */
  close(): void {
    if (this.rx.length > 0 && !this.reset) this.resetPeer = true;
    this.closed = true;
    this.rx.clear();
  }
}
