/**
 * WASI preview1 sockets for commands (docs/WASI.md, "Sockets"): sock_accept, sock_recv,
 * sock_send, sock_shutdown, and the fd_* calls a program makes on a socket descriptor, in front
 * of either backend. Descriptors are guest fds (host/command/fd-table.ts); the bytes move in
 * host/command/socket-io.ts. Errno values are the preview1 spec's: EBADF for a descriptor that
 * is not open, ENOTSOCK for a sock_* call on one that is not a socket, EINVAL for flags the spec
 * does not define.
 *
 * Invariant: `accepted` counts the accepted sockets the table holds; sock_accept refuses past
 * max-connections (EAGAIN on a non-blocking listener, whose poll_oneoff readiness is held back
 * meanwhile; EMFILE on a blocking one, which nothing could ever wake).
 */
import { Errno } from '../errno.ts';
import { releasing } from './abort.ts';
import { SHUT_RD, SHUT_RDWR, SHUT_WR } from '../kernel/contract.ts';
import type { FdTable } from './fd-table.ts';
import { bytesOf, viewOf } from './memview.ts';
import { acceptOne, iovecTotal, recvInto, sendFrom, Socket, type SocketHost } from './socket-io.ts';
import { fits, takesUnsigned, type WasiFunction, type WasiFunctions } from './stdio.ts';

const FDFLAGS_NONBLOCK = 4;
const RIFLAGS_RECV_PEEK = 1;
const RIFLAGS_RECV_WAITALL = 2;
const SDFLAGS_RD = 1;
const SDFLAGS_WR = 2;
const FILETYPE_SOCKET_STREAM = 6;
/** Rights (preview1 bit numbers): fd_read 1, fd_fdstat_set_flags 3, fd_write 6,
 *  fd_filestat_get 21, poll_fd_readwrite 27, sock_shutdown 28, sock_accept 29. */
const RIGHTS_CONNECTION =
  (1n << 1n) | (1n << 3n) | (1n << 6n) | (1n << 21n) | (1n << 27n) | (1n << 28n);
const RIGHTS_LISTENER = (1n << 3n) | (1n << 21n) | (1n << 27n) | (1n << 29n);

/** The other fd_* calls on a socket: what Linux answers for the same call on a socket. */
const OTHER_ON_SOCKET: Record<string, number> = {
  fd_seek: Errno.ESPIPE,
  fd_tell: Errno.ESPIPE,
  fd_pread: Errno.ESPIPE,
  fd_pwrite: Errno.ESPIPE,
  fd_advise: Errno.ESPIPE,
  fd_allocate: Errno.ENODEV,
  fd_sync: Errno.EINVAL,
  fd_datasync: Errno.EINVAL,
  fd_readdir: Errno.ENOTDIR,
  // Not a preopened directory: wasi-libc stops looking for preopens at EBADF (docs/WASI.md).
  fd_prestat_get: Errno.EBADF,
  fd_prestat_dir_name: Errno.EBADF,
};

/** Every argument of the calls here is an i32, which wasm hands over as a number (never a
 *  bigint): `>>> 0` alone makes it the u32 it is, without a generic Number() conversion. */
const u32 = (v: number | bigint) => (v as number) >>> 0;

export class CommandSockets {
  private accepted = 0;

  constructor(
    private readonly host: SocketHost,
    private readonly table: FdTable,
    private readonly maxConnections: number,
  ) {}

  /** True while sock_accept refuses: poll_oneoff then holds a listener's readiness back. */
  atLimit(): boolean {
    return this.accepted >= this.maxConnections;
  }

  close(socket: Socket): void {
    this.host.readiness.forget(socket.fd); // before the number can be reused
    releasing(socket.fd);
    this.host.kernel.close(socket.fd);
    if (!socket.listener) this.accepted--;
  }

  /** Closes every socket the guest still holds (at the command's end). */
  closeAll(): void {
    for (const s of this.table.sockets()) this.close(s);
  }

  /** The sock_* functions: ENOTSOCK on a backend descriptor, EBADF on none. Each reads its
   *  arguments as u32 itself (marked for withUnsignedArgs, whose generic wrapper allocates):
   *  sock_recv and sock_send are a network program's hot path. */
  functions(): WasiFunctions {
    const u = u32;
    // No closure per call: each looks its socket up (a number is the errno) and calls on.
    const functions: WasiFunctions = {
      sock_accept: (fd, flags, result) => {
        const s = this.socketAt(fd);
        return typeof s === 'number' ? s : this.accept(s, u(flags), u(result));
      },
      sock_recv: (fd, iovs, count, flags, nread, roflags) => {
        const s = this.socketAt(fd);
        if (typeof s === 'number') return s;
        return this.recv(s, u(iovs), u(count), u(flags), u(nread), u(roflags));
      },
      sock_send: (fd, iovs, count, _flags, nwritten) => {
        const s = this.socketAt(fd);
        return typeof s === 'number' ? s : this.send(s, u(iovs), u(count), u(nwritten));
      },
      sock_shutdown: (fd, how) => {
        const s = this.socketAt(fd);
        return typeof s === 'number' ? s : this.shutdown(s, u(how));
      },
    };
    for (const fn of Object.values(functions)) takesUnsigned(fn);
    return functions;
  }

  /** fd_read (`write` false) or fd_write with a fast path for sockets: on a socket straight to
   *  recv/send, as sock_recv/sock_send; on any other fd `slow` (the backend's, over guest fds),
   *  given its arguments as u32. Rust std reads and writes a TcpStream this way. */
  fdIo(write: boolean, slow: WasiFunction): WasiFunction {
    return takesUnsigned((fd, iovs, count, nPtr) => {
      const entry = this.table.get(u32(fd));
      if (entry?.socket === undefined) return slow(u32(fd), u32(iovs), u32(count), u32(nPtr));
      if (write) return this.send(entry.socket, u32(iovs), u32(count), u32(nPtr));
      return this.recv(entry.socket, u32(iovs), u32(count), 0, u32(nPtr), undefined);
    });
  }

  /** The socket behind guest fd `fd`; EBADF for no descriptor, ENOTSOCK for one that is not a
   *  socket. */
  private socketAt(fd: number | bigint): Socket | number {
    const entry = this.table.get((fd as number) >>> 0);
    if (entry === undefined) return Errno.EBADF;
    return entry.socket ?? Errno.ENOTSOCK;
  }

  /** A call `name` on guest fd `fd`, which holds `socket`. Arguments arrive as u32 / bigint. */
  onSocket = (name: string, socket: Socket, fd: number, args: (number | bigint)[]): number => {
    const a = args.map(Number);
    switch (name) {
      case 'fd_read':
        return this.recv(socket, a[1]!, a[2]!, 0, a[3]!, undefined);
      case 'fd_write':
        return this.send(socket, a[1]!, a[2]!, a[3]!);
      case 'fd_close':
        this.close(socket);
        this.table.delete(fd);
        return Errno.ESUCCESS;
      case 'fd_fdstat_get':
        return this.fdstat(socket, a[1]!);
      case 'fd_fdstat_set_flags':
        return this.setFlags(socket, a[1]!);
      case 'fd_filestat_get':
        return this.filestat(a[1]!);
      default:
        return OTHER_ON_SOCKET[name] ?? (name.startsWith('path_') ? Errno.ENOTDIR : Errno.ENOTSUP);
    }
  };

  private accept(listener: Socket, flags: number, resultPtr: number): number {
    if (!fits(this.host.memory(), resultPtr, 4)) return Errno.EFAULT;
    if ((flags & ~FDFLAGS_NONBLOCK) !== 0) return Errno.EINVAL;
    if (!listener.listener) return Errno.EINVAL; // accept(2) on a socket that is not listening
    if (this.atLimit()) return listener.nonblock ? Errno.EAGAIN : Errno.EMFILE;
    const hostFd = acceptOne(this.host, listener);
    if (hostFd < 0) return -hostFd;
    this.accepted++;
    const fd = this.table.add({
      socket: new Socket(hostFd, false, (flags & FDFLAGS_NONBLOCK) !== 0),
    });
    viewOf(this.host.memory()).setUint32(resultPtr, fd, true);
    return Errno.ESUCCESS;
  }

  private recv(
    socket: Socket,
    iovs: number,
    count: number,
    flags: number,
    nreadPtr: number,
    roflagsPtr: number | undefined,
  ): number {
    const memory = this.host.memory();
    const total = iovecTotal(memory, iovs, count);
    if (total < 0 || !fits(memory, nreadPtr, 4)) return Errno.EFAULT;
    if (roflagsPtr !== undefined && !fits(memory, roflagsPtr, 2)) return Errno.EFAULT;
    if ((flags & ~(RIFLAGS_RECV_PEEK | RIFLAGS_RECV_WAITALL)) !== 0) return Errno.EINVAL;
    const peek = (flags & RIFLAGS_RECV_PEEK) !== 0;
    const waitAll = (flags & RIFLAGS_RECV_WAITALL) !== 0;
    const n = recvInto(this.host, socket, iovs, count, total, peek, waitAll);
    if (n < 0) return -n;
    const view = viewOf(memory); // the same buffer: no guest code ran to grow it
    view.setUint32(nreadPtr, n, true);
    // ROFLAGS_RECV_DATA_TRUNCATED is for datagrams: a stream is never truncated.
    if (roflagsPtr !== undefined) view.setUint16(roflagsPtr, 0, true);
    return Errno.ESUCCESS;
  }

  private send(socket: Socket, iovs: number, count: number, nwrittenPtr: number): number {
    const memory = this.host.memory();
    if (iovecTotal(memory, iovs, count) < 0 || !fits(memory, nwrittenPtr, 4)) return Errno.EFAULT;
    const n = sendFrom(this.host, socket, iovs, count);
    if (n < 0) return -n;
    viewOf(memory).setUint32(nwrittenPtr, n, true); // the same buffer, as in recv()
    return Errno.ESUCCESS;
  }

  private shutdown(socket: Socket, how: number): number {
    const mode =
      how === SDFLAGS_RD
        ? SHUT_RD
        : how === SDFLAGS_WR
          ? SHUT_WR
          : how === (SDFLAGS_RD | SDFLAGS_WR)
            ? SHUT_RDWR
            : undefined;
    if (mode === undefined) return Errno.EINVAL;
    return -this.host.kernel.shutdown(socket.fd, mode);
  }

  /** fdstat, 24 bytes: filetype u8 @0, flags u16 @2, rights_base u64 @8, inheriting u64 @16. */
  private fdstat(socket: Socket, at: number): number {
    const memory = this.host.memory();
    if (!fits(memory, at, 24)) return Errno.EFAULT;
    const view = viewOf(memory);
    bytesOf(memory).fill(0, at, at + 24);
    view.setUint8(at, FILETYPE_SOCKET_STREAM);
    view.setUint16(at + 2, socket.nonblock ? FDFLAGS_NONBLOCK : 0, true);
    view.setBigUint64(at + 8, socket.listener ? RIGHTS_LISTENER : RIGHTS_CONNECTION, true);
    return Errno.ESUCCESS;
  }

  /** Only NONBLOCK means anything on a socket; APPEND, DSYNC, RSYNC, SYNC are EINVAL. */
  private setFlags(socket: Socket, flags: number): number {
    if ((flags & ~FDFLAGS_NONBLOCK) !== 0) return Errno.EINVAL;
    socket.nonblock = flags === FDFLAGS_NONBLOCK;
    return Errno.ESUCCESS;
  }

  /** filestat, 64 bytes: only filetype (u8 @16) is known for a socket; the rest is 0. */
  private filestat(at: number): number {
    const memory = this.host.memory();
    if (!fits(memory, at, 64)) return Errno.EFAULT;
    bytesOf(memory).fill(0, at, at + 64);
    viewOf(memory).setUint8(at + 16, FILETYPE_SOCKET_STREAM);
    return Errno.ESUCCESS;
  }
}
