/**
 * The contract between the host loop and a kernel. Two implementations exist:
 *  - the native shim (host/native/*.c, loaded by host/kernel/native.ts): real sockets and Linux epoll;
 *  - the simulated kernel (host/kernel/sim/kernel.ts): in-memory sockets, a virtual clock, scripted
 *    peers and seeded faults, so guests can be tested deterministically in pure wasm.
 *
 * Every call returns `>= 0` or a negative WASI errno (host/errno.ts). None of them throws for a
 * bad argument: a wrong type, a negative number, a detached buffer or a range outside the buffer
 * is an errno (`-EINVAL`, `-EFAULT`, `-EBADF`), never an exception or a crash.
 *
 * Memory arguments are the guest's `memory.buffer`, re-read by the caller on every call (it is
 * replaced whenever the guest grows its memory; a detached one has byteLength 0). A kernel
 * checks `offset + length <= byteLength` before it reads or writes a byte.
 */

/** The numbers the contract speaks in (Linux values), defined in host/abi.ts. */
export {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EVENT_SIZE,
  MAX_EVENTS,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
} from '../abi.ts';

/**
 * A file descriptor of this kernel (or, where a result may be one, a negative errno). Branded
 * so that the compiler refuses a guest's handle (host/guest/handles.ts `Handle`) or any plain
 * number where an fd is expected; the brand exists only at compile time and costs nothing.
 * Numbers become fds only where a kernel returns them or a trusted table stores them.
 */
export type Fd = number & { readonly __brand: 'Fd' };

export interface SockAddr {
  host: string;
  port: number;
  family: 4 | 6;
}

export interface Kernel {
  /** A new epoll instance: its fd, or -errno. */
  epollCreate(): Fd;
  /** epoll_ctl(epfd, op, fd, {events, data = hi << 32 | lo}): 0 or -errno. */
  epollCtl(epfd: Fd, op: number, fd: Fd, events: number, dataLo: number, dataHi: number): number;
  /**
   * Waits up to `timeoutMs` (0 = poll, -1 = forever) and writes up to `maxEvents` packed
   * 12-byte records at `memory[offset..]`. Returns how many, or -errno; `-EFAULT` when
   * `offset + maxEvents * 12 > memory.byteLength`, -EINVAL above MAX_EVENTS. EINTR is retried inside.
   */
  epollWait(
    epfd: Fd,
    memory: ArrayBuffer,
    offset: number,
    maxEvents: number,
    timeoutMs: number,
  ): number;
  /**
   * A non-blocking, close-on-exec TCP listener bound to a numeric IPv4 or IPv6 address
   * (`"127.0.0.1"`, `"::1"`, no brackets), with SO_REUSEADDR and, if asked, SO_REUSEPORT.
   * Port 0 picks an ephemeral port (see `localAddress`). Returns its fd or -errno.
   */
  listen(host: string, port: number, backlog: number, reusePort: boolean): Fd;
  /** The local address of a socket, or -errno. */
  localAddress(fd: Fd): SockAddr | number;
  /** The remote address of a connection (getpeername), or -errno: -ENOTCONN for a listener or
   *  a connection the peer has reset. The host reads it to pin a trap on a peer. */
  peerAddress(fd: Fd): SockAddr | number;
  /** accept4(NONBLOCK|CLOEXEC) with TCP_NODELAY set: the new fd, or -errno (-EAGAIN if none). */
  accept(fd: Fd): Fd;
  /** recv into memory[ptr, ptr+len): bytes read, 0 at EOF, or -errno. len 0 is -EINVAL. */
  recv(fd: Fd, memory: ArrayBuffer, ptr: number, len: number): number;
  /** send from memory[ptr, ptr+len) with MSG_NOSIGNAL: bytes sent or -errno. len 0 is -EINVAL. */
  send(fd: Fd, memory: ArrayBuffer, ptr: number, len: number): number;
  /**
   * The descriptors of the next recvMany/sendMany: entry i is record i's descriptor, or a
   * negative errno the caller already decided. IO_MANY_MAX entries, owned by the kernel (the
   * shim's memory, one per thread: handing it over once spares the shim a typed-array lookup
   * per call); the caller writes entries 0..n-1 right before each call.
   */
  readonly ioDescriptors: Int32Array;
  /**
   * `n` recv calls in one (the `recv_many` hostcall, docs/ABI.md). Record i is the 16
   * bytes at `memory[ptr + 16 i ..]` (u32 handle, u32 buf, u32 len, i32 result, little-endian);
   * `ioDescriptors[i]` is its descriptor, or a negative errno the caller already decided,
   * which is stored as its result untouched. Each record is done in order exactly as
   * `recv(ioDescriptors[i], memory, buf, len)` and its return value stored in `result`, except
   * that `buf` 0 means "in the area": the bytes go to the first free byte of `memory[area,
   * area + areaLen)`, whose address is stored in `buf`, if `len` bytes are free there, else the
   * result is -EAGAIN; `len` > `areaLen` is -EINVAL. Returns 0, or -EFAULT when the records or
   * the area do not fit in memory (nothing done), -EINVAL for bad arguments.
   */
  recvMany(memory: ArrayBuffer, ptr: number, n: number, area: number, areaLen: number): number;
  /** `n` send calls in one, as `recvMany` (without an area). */
  sendMany(memory: ArrayBuffer, ptr: number, n: number): number;
  /** shutdown(fd, how): 0 or -errno. */
  shutdown(fd: Fd, how: number): number;
  /** close(fd): 0 or -errno. */
  close(fd: Fd): number;
  /** A TLS connection's negotiated ALPN and SNI name ('' for none), or 0 for any other fd.
   *  Only the native kernel serves TLS; without it every connection is plain (`tls_info` 0). */
  tlsInfo?(fd: Fd): { alpn: string; sni: string } | number;
}
