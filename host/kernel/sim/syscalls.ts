/**
 * The simulated kernel's syscalls: the `Kernel` contract (host/kernel/contract.ts) over the
 * in-memory sockets, epoll and ports of host/kernel/sim/. SimKernel (host/kernel/sim/kernel.ts)
 * adds what only a test does (the clock, peers, injected events); the model and its
 * deviations from Linux are described there and in docs/SIMULATION.md.
 */
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EVENT_SIZE,
  MAX_EVENTS,
} from '../contract.ts';
import type { Fd, Kernel, SockAddr } from '../contract.ts';
import { IO_MANY_MAX } from '../../abi.ts';
import { Errno } from '../../errno.ts';
import { isIP } from 'node:net';
import { ALLOWED_EVENTS, Epoll } from './epoll.ts';
import { FaultTally, type SimFaults } from './faults.ts';
import { recvConn, sendConn } from './io.ts';
import { ioMany } from './io-many.ts';
import { PortTable } from './ports.ts';
import { Random } from './random.ts';
import { ConnSocket, ListenSocket } from './socket.ts';
import { FdTable, inBounds, isCount, isMemory, isWord } from './util.ts';

export interface SimKernelOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Initial fault knobs (default: none); `kernel.faults` can be changed later. */
  faults?: SimFaults;
  /** Open descriptors allowed before EMFILE (default 65536). */
  maxFds?: number;
  /** Each new peer's receive window in bytes (default 4 MiB). */
  window?: number;
}

/** Linux's default somaxconn: the largest accept queue. */
const SOMAXCONN = 4096;

type Entry = ConnSocket | ListenSocket | Epoll;

export class SimSyscalls implements Kernel {
  /** The fault knobs; mutable at any time. */
  faults: SimFaults;
  readonly tally = new FaultTally(); // what the faults did, kind by kind (host/kernel/sim/faults.ts)
  readonly ioDescriptors = new Int32Array(IO_MANY_MAX);
  protected readonly rng: Random;
  protected readonly fds: FdTable<Entry>;
  protected readonly ports = new PortTable();
  protected readonly window: number;
  /** The next `acceptFailTimes` accepts fail with `acceptFailErrno` (negative). */
  protected acceptFailErrno = 0;
  protected acceptFailTimes = 0;
  /** Open connection descriptors (accepted and not closed). */
  protected conns = 0;

  constructor(options: SimKernelOptions = {}) {
    this.rng = new Random(options.seed ?? 1);
    this.faults = { ...options.faults };
    this.fds = new FdTable<Entry>(options.maxFds ?? 65536);
    this.window = options.window ?? 4 * 1024 * 1024;
  }

  epollCreate(): Fd {
    const fd = this.fds.alloc(new Epoll());
    return (fd < 0 ? -Errno.EMFILE : fd) as Fd;
  }

  epollCtl(
    epfd: number,
    op: number,
    fd: number,
    events: number,
    dataLo: number,
    dataHi: number,
  ): number {
    const ep = this.entry(epfd);
    const target = this.entry(fd);
    if (ep === undefined || target === undefined) return -Errno.EBADF;
    if (!(ep instanceof Epoll) || epfd === fd) return -Errno.EINVAL;
    if (target instanceof Epoll) return -Errno.EPERM;
    if (op === EPOLL_CTL_DEL) {
      if (!ep.has(target)) return -Errno.ENOENT;
      ep.remove(target);
      return 0;
    }
    if (!isWord(events) || !isWord(dataLo) || !isWord(dataHi)) return -Errno.EINVAL;
    if (((events >>> 0) & ~ALLOWED_EVENTS) !== 0) return -Errno.EINVAL;
    if (op === EPOLL_CTL_ADD) {
      if (ep.has(target)) return -Errno.EEXIST;
      ep.add(target, events, dataLo, dataHi);
      return 0;
    }
    if (op !== EPOLL_CTL_MOD) return -Errno.EINVAL;
    if (!ep.has(target)) return -Errno.ENOENT;
    ep.modify(target, events, dataLo, dataHi);
    return 0;
  }

  epollWait(
    epfd: number,
    memory: ArrayBuffer,
    offset: number,
    maxEvents: number,
    _timeoutMs: number,
  ): number {
    if (
      !Number.isSafeInteger(maxEvents) ||
      maxEvents < 1 ||
      maxEvents > MAX_EVENTS ||
      !isCount(offset)
    )
      return -Errno.EINVAL;
    if (!isMemory(memory) || !inBounds(memory, offset, maxEvents * EVENT_SIZE))
      return -Errno.EFAULT;
    const ep = this.entry(epfd);
    if (ep === undefined) return -Errno.EBADF;
    if (!(ep instanceof Epoll)) return -Errno.EINVAL;
    return ep.wait(new DataView(memory), offset, maxEvents, this.rng, this.faults, this.tally);
  }

  listen(host: string, port: number, backlog: number, reusePort: boolean): Fd {
    const family = typeof host === 'string' ? isIP(host) : 0;
    if (family === 0 || !isCount(port) || port > 65535 || !Number.isInteger(backlog))
      return -Errno.EINVAL as Fd;
    if (this.fds.full()) return -Errno.EMFILE as Fd;
    const bound = port === 0 ? this.ports.ephemeral() : port;
    if (bound < 0) return bound as Fd;
    const capacity = backlog < 0 ? SOMAXCONN : Math.max(1, Math.min(backlog, SOMAXCONN));
    const addr: SockAddr = { host, port: bound, family: family === 6 ? 6 : 4 };
    const sock = new ListenSocket(addr, capacity, reusePort === true);
    const err = this.ports.bind(sock);
    return (err < 0 ? err : this.fds.alloc(sock)) as Fd;
  }

  localAddress(fd: number): SockAddr | number {
    const sock = this.socket(fd);
    return typeof sock === 'number' ? sock : { ...sock.local };
  }

  peerAddress(fd: number): SockAddr | number {
    const sock = this.socket(fd);
    return typeof sock === 'number' ? sock : sock.peerAddress();
  }

  accept(fd: number): Fd {
    const sock = this.socket(fd);
    if (typeof sock === 'number') return sock as Fd;
    if (!(sock instanceof ListenSocket)) return -Errno.EINVAL as Fd;
    if (this.acceptFailTimes > 0) {
      this.acceptFailTimes--;
      return (this.tally.hit('acceptFail'), this.acceptFailErrno as Fd);
    }
    if (this.fds.full()) return -Errno.EMFILE as Fd;
    const conn = sock.queue.shift();
    if (conn === undefined) return -Errno.EAGAIN as Fd;
    conn.fd = this.fds.alloc(conn);
    this.conns++;
    return conn.fd as Fd;
  }

  recv(fd: number, memory: ArrayBuffer, ptr: number, len: number): number {
    const sock = this.ioTarget(fd, memory, ptr, len);
    if (typeof sock === 'number') return sock;
    if (sock instanceof ListenSocket) return -Errno.ENOTCONN;
    return recvConn(sock, memory, ptr, len, this.rng, this.faults, this.tally);
  }

  send(fd: number, memory: ArrayBuffer, ptr: number, len: number): number {
    const sock = this.ioTarget(fd, memory, ptr, len);
    if (typeof sock === 'number') return sock;
    if (sock instanceof ListenSocket) return -Errno.EPIPE;
    return sendConn(sock, memory, ptr, len, this.rng, this.faults, this.tally);
  }

  recvMany(memory: ArrayBuffer, ptr: number, n: number, area: number, areaLen: number): number {
    return ioMany(this, false, this.ioDescriptors, memory, ptr, n, area, areaLen);
  }

  sendMany(memory: ArrayBuffer, ptr: number, n: number): number {
    return ioMany(this, true, this.ioDescriptors, memory, ptr, n, 0, 0);
  }

  shutdown(fd: number, how: number): number {
    const sock = this.socket(fd);
    if (typeof sock === 'number') return sock;
    if (how !== 0 && how !== 1 && how !== 2) return -Errno.EINVAL;
    if (!(sock instanceof ConnSocket) || sock.reset || sock.broken) return -Errno.ENOTCONN;
    sock.shutdown(how);
    return 0;
  }

  close(fd: number): number {
    const entry = this.entry(fd);
    if (entry === undefined) return -Errno.EBADF;
    if (entry instanceof Epoll) {
      entry.close();
    } else {
      // Like Linux closing the last reference: gone from every interest set.
      for (const watcher of [...entry.watchers]) watcher.detach();
      entry.close();
      if (entry instanceof ListenSocket) this.ports.unbind(entry);
      else this.conns--;
    }
    this.fds.free(fd);
    return 0;
  }

  // ---- helpers --------------------------------------------------------------------------

  private entry(fd: unknown): Entry | undefined {
    return isCount(fd) ? this.fds.get(fd) : undefined;
  }

  /** The socket `fd` names, or -EBADF (not open) / -ENOTSOCK (an epoll instance). */
  private socket(fd: unknown): ConnSocket | ListenSocket | number {
    const entry = this.entry(fd);
    if (entry === undefined) return -Errno.EBADF;
    return entry instanceof Epoll ? -Errno.ENOTSOCK : entry;
  }

  /** Validates a recv/send call: arguments, descriptor, then the memory range. */
  private ioTarget(
    fd: number,
    memory: ArrayBuffer,
    ptr: number,
    len: number,
  ): ConnSocket | ListenSocket | number {
    if (!isCount(ptr) || !isCount(len)) return -Errno.EINVAL;
    const sock = this.socket(fd);
    if (typeof sock === 'number') return sock;
    if (len === 0) return -Errno.EINVAL;
    if (!isMemory(memory) || !inBounds(memory, ptr, len)) return -Errno.EFAULT;
    return sock;
  }
}
