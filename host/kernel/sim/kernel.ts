/**
 * The simulated kernel: the `Kernel` contract (host/kernel/contract.ts) over in-memory sockets, so
 * guests can be tested in pure wasm with scripted peers, a virtual clock and seeded faults.
 *
 * Model
 *  - Deterministic: no real time, no real I/O; every random choice comes from one seeded PRNG
 *    (host/kernel/sim/random.ts), drawn only by enabled faults. Same seed + same calls = same results.
 *  - Descriptors: lowest free number first, from 3, like Linux (closed numbers are reused).
 *  - Listeners bind numeric addresses; port 0 picks an ephemeral port from 40000 up. The test
 *    connects with `connect(port, host?, from?)`, which queues an established connection on the
 *    listener's accept queue (capacity `backlog`) or, when full or absent, refuses the peer.
 *  - Connections (host/kernel/sim/socket.ts) move bytes instantly; the peer (host/kernel/sim/peer.ts) has a
 *    bounded receive window (default 4 MiB), the server an unbounded receive queue.
 *  - epoll (host/kernel/sim/epoll.ts) keeps a Linux-style ready list: level-triggered by default,
 *    EPOLLET and EPOLLONESHOT supported, order = wakeup order. epollWait never blocks:
 *    `timeoutMs` is ignored and 0 is returned when nothing is ready.
 *  - Faults (host/kernel/sim/faults.ts): short reads and writes, spurious EAGAIN, spurious readiness,
 *    reordering, `failAccept`, `injectEvent`, a descriptor limit (`maxFds` -> EMFILE).
 *
 * Deviations from Linux (deliberate simplifications) are listed in docs/SIMULATION.md.
 * test/kernel-contract*.ts runs the contract on both kernels and asserts each deviation by name.
 */
import { Epoll } from './epoll.ts';
import { isCount } from './util.ts';
import { remoteAddress, SimPeer } from './peer.ts';
import { ConnSocket } from './socket.ts';
import { SimSyscalls } from './syscalls.ts';

export { SimPeer } from './peer.ts';
export { EPOLLONESHOT } from './epoll.ts';
export { FaultTally, FAULT_KINDS, type FaultKind, type SimFaults } from './faults.ts';
export type { SimKernelOptions } from './syscalls.ts';

/** The simulated wall clock's reading at virtual time 0: 2026-01-01T00:00:00Z. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

/** The syscalls (host/kernel/sim/syscalls.ts) and the test's side: the clock, scripted peers,
 *  failing accepts and injected events, and counts of what is open. */
export class SimKernel extends SimSyscalls {
  /** The virtual clock in milliseconds; only `advance` moves it. */
  now = 0;
  /** Every peer `connect` created, in order (refused ones included). */
  readonly peers: SimPeer[] = [];

  /** Moves the virtual clock forward. */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`bad advance(${ms})`);
    this.now += ms;
  }

  /** The simulated wall clock (ms since the Unix epoch): SIM_EPOCH_MS plus the virtual clock,
   *  so a guest's Date headers replay exactly. */
  wallMs(): number {
    return SIM_EPOCH_MS + this.now;
  }

  /** A random u32 from the kernel's PRNG (the `env.seed` import of a guest). */
  randomSeed(): number {
    return this.rng.u32();
  }

  /** A new connection from a scripted peer at `from` (default loopback) to `port` (optionally only `host`'s listeners). */
  connect(port: number, host?: string, from?: string): SimPeer {
    const listener = this.ports.route(port, host);
    const local = listener?.local ?? { host: host ?? '127.0.0.1', port, family: 4 };
    const conn = new ConnSocket(
      { ...local },
      remoteAddress(local, from, this.peers.length),
      this.window,
    );
    const queued = listener !== undefined && listener.offer(conn);
    const peer = new SimPeer(this.peers.length, port, queued ? conn : null, this.tally);
    this.peers.push(peer);
    return peer;
  }

  /** The next `times` accept calls (on any listener) return -|errno|, e.g. EMFILE. */
  failAccept(errno: number, times = 1): void {
    if (!Number.isInteger(errno) || errno === 0 || !isCount(times))
      throw new RangeError(`bad failAccept(${errno}, ${times})`);
    this.acceptFailErrno = -Math.abs(errno);
    this.acceptFailTimes = times;
  }

  /** Queues a raw record that the next epollWait on `epfd` reports before anything else. */
  injectEvent(epfd: number, events: number, lo: number, hi: number): void {
    const ep = this.fds.get(epfd);
    if (!(ep instanceof Epoll)) throw new Error(`injectEvent: ${epfd} is not an epoll fd`);
    ep.inject(events, lo, hi, this.tally);
  }

  /** Open connection descriptors (not listeners, not epoll instances). */
  openFds(): number {
    return this.conns;
  }

  /** Every open descriptor of any kind. */
  openDescriptors(): number {
    return this.fds.size;
  }
}
