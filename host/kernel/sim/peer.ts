/**
 * The remote end of a simulated connection, driven by the test script. A `SimPeer` is returned
 * by `SimKernel.connect(port)`; the server side is the guest's accepted descriptor.
 *
 * Peer operations are instantaneous and never block: `write` lands in the server's receive
 * queue at once, `read` takes everything the server has sent. They never fail either: on a
 * refused or dead connection a write is dropped and a read is empty. Using the peer after it
 * shut down its own write side (`shutdownWrite`, `close`, `reset`) and writing again is a bug
 * in the script, and throws.
 */
import { isIP } from 'node:net';
import type { SockAddr } from '../contract.ts';
import type { ConnSocket } from './socket.ts';
import { FaultTally } from './faults.ts';

/** Peers' own ports count up from 32768, the start of Linux's default ip_local_port_range. */
const PEER_PORT_BASE = 32768;
const PEER_PORTS = 28232;

/** The address peer number `id` connects from: `from`, or the loopback address of the
 *  listener's family by default. */
export function remoteAddress(local: SockAddr, from: string | undefined, id: number): SockAddr {
  const host = from ?? (local.family === 6 ? '::1' : '127.0.0.1');
  return { host, port: PEER_PORT_BASE + (id % PEER_PORTS), family: isIP(host) === 6 ? 6 : 4 };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SimPeer {
  /** True when nobody accepted the connection: no listener on the port, or its backlog full. */
  readonly refused: boolean;
  /** Set once this peer sent FIN or RST: further writes are a script error. */
  private writeDone = false;

  constructor(
    /** Creation order, from 0: handy in failure messages. */
    readonly id: number,
    readonly port: number,
    private readonly conn: ConnSocket | null,
    /** The kernel's fault tally: an RST or FIN that reaches the server's socket is counted. */
    private readonly tally: FaultTally = new FaultTally(),
  ) {
    this.refused = conn === null;
  }

  /** The address this peer connects from (what the server's peerAddress reports until a
   *  reset), or null when it was refused. */
  get address(): SockAddr | null {
    return this.conn === null ? null : { ...this.conn.remote };
  }

  /** Sends bytes (or a UTF-8 string) to the server; they are readable at once. */
  write(data: Uint8Array | string): void {
    if (this.writeDone) throw new Error(`peer ${this.id}: write after shutdownWrite/close/reset`);
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice();
    this.conn?.peerWrite(bytes);
  }

  /** Returns and clears everything the server has sent so far; frees window space. */
  read(): Uint8Array {
    return this.conn === null ? new Uint8Array(0) : this.conn.peerRead();
  }

  /** `read()` decoded as UTF-8. */
  readText(): string {
    return decoder.decode(this.read());
  }

  /** Discards what the server has sent so far (frees window space); returns how many bytes. */
  drain(): number {
    return this.read().length;
  }

  /** FIN: after the bytes already written, the server's recv returns 0 (EPOLLIN|EPOLLRDHUP). */
  shutdownWrite(): void {
    this.writeDone = true;
    const live = this.conn !== null && !this.conn.closed && !this.conn.peerFin && !this.conn.reset;
    if (live) this.tally.chance('halfClose', 1);
    this.conn?.peerShutdown();
    if (live && this.conn.peerFin) this.tally.hit('halfClose');
  }

  /** RST: the server gets EPOLLERR|EPOLLHUP and -ECONNRESET; unread bytes are discarded. */
  reset(): void {
    this.writeDone = true;
    const live = this.conn !== null && !this.conn.closed && !this.conn.reset;
    if (live) this.tally.chance('reset', 1);
    this.conn?.peerReset();
    if (live && this.conn.reset) this.tally.hit('reset');
  }

  /**
   * close(): FIN, and the peer reads nothing more. If bytes from the server are still unread,
   * this is a reset instead (the Linux rule). A later server send gets -EPIPE and the server
   * socket reports EPOLLERR|EPOLLHUP from then on.
   */
  close(): void {
    this.writeDone = true;
    this.conn?.peerClose();
  }

  /** The peer's receive window in bytes: the server's sends stop when this much is unread. */
  setWindow(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bad window ${bytes}`);
    this.conn?.setWindow(bytes);
  }

  get window(): number {
    return this.conn?.window ?? 0;
  }

  /** Per-connection cap on bytes per server recv (overrides the kernel's `maxRecv` fault). */
  set maxRecv(bytes: number | undefined) {
    if (this.conn !== null) this.conn.maxRecv = bytes;
  }

  get maxRecv(): number | undefined {
    return this.conn?.maxRecv;
  }

  /** Total bytes the server has sent to this peer (read or not). */
  get received(): number {
    return this.conn?.sent ?? 0;
  }

  /** Bytes the server sent that the peer has not read yet. */
  get pending(): number {
    return this.conn?.tx.length ?? 0;
  }

  /** Bytes the peer wrote that the server has not read yet. */
  get unread(): number {
    return this.conn?.rx.length ?? 0;
  }

  /** The server accepted this connection. */
  get accepted(): boolean {
    return this.conn !== null && this.conn.fd >= 0;
  }

  /** The server's descriptor for this connection, -1 until accepted. */
  get fd(): number {
    return this.conn?.fd ?? -1;
  }

  /** The server closed its descriptor (with FIN, or with RST: see `wasReset`). */
  get serverClosed(): boolean {
    return this.conn?.closed ?? false;
  }

  /** The server shut down its write side (shutdown SHUT_WR or SHUT_RDWR). */
  get serverShutWrite(): boolean {
    return this.conn?.wrShut ?? false;
  }

  /** The server reset this peer: it closed with unread data, or while still unaccepted. */
  get wasReset(): boolean {
    return this.conn?.resetPeer ?? false;
  }

  /** The peer would read end-of-stream now: the server sent FIN and nothing is left to read. */
  get eof(): boolean {
    const c = this.conn;
    if (c === null || c.resetPeer || c.tx.length > 0) return false;
    return c.wrShut || c.closed;
  }
}
