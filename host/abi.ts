/**
 * The numbers of the wasmloop ABI v1 (docs/ABI.md), defined once for the host's TypeScript:
 * hostcall names, errno values, epoll bits, record sizes and caps, counter names, salvage
 * actions. Every host and simulated-kernel file takes them from here (host/kernel.ts re-exports
 * the kernel contract's share), never from a copy of its own.
 *
 * The C shim (host/native/abi.h, host/native/errno.h) and the guest SDK (assembly/) keep their
 * own copies, in their own languages; test/abi-constants.test.ts reads those sources and fails
 * when any of them disagrees with this file. Change a number here, there, and in docs/ABI.md.
 */

/** What the host's `wasmloop` import module provides (docs/ABI.md, "Host imports"). */
export const HOSTCALLS = [
  'listener',
  'accept',
  'recv',
  'send',
  'recv_many',
  'send_many',
  'watch',
  'shutdown',
  'close',
  'now_ms',
  'wall_ms',
  'limit',
  'tls_info',
] as const;
export type Hostcall = (typeof HOSTCALLS)[number];

/** WASI preview1 errno names, in value order: `ERRNO_NAMES[6] === 'EAGAIN'`. Every hostcall and
 *  kernel call returns these, negated; the shim translates Linux errno into them in C. */
export const ERRNO_NAMES = [
  'ESUCCESS',
  'E2BIG',
  'EACCES',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EAFNOSUPPORT',
  'EAGAIN',
  'EALREADY',
  'EBADF',
  'EBADMSG',
  'EBUSY',
  'ECANCELED',
  'ECHILD',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EDEADLK',
  'EDESTADDRREQ',
  'EDOM',
  'EDQUOT',
  'EEXIST',
  'EFAULT',
  'EFBIG',
  'EHOSTUNREACH',
  'EIDRM',
  'EILSEQ',
  'EINPROGRESS',
  'EINTR',
  'EINVAL',
  'EIO',
  'EISCONN',
  'EISDIR',
  'ELOOP',
  'EMFILE',
  'EMLINK',
  'EMSGSIZE',
  'EMULTIHOP',
  'ENAMETOOLONG',
  'ENETDOWN',
  'ENETRESET',
  'ENETUNREACH',
  'ENFILE',
  'ENOBUFS',
  'ENODEV',
  'ENOENT',
  'ENOEXEC',
  'ENOLCK',
  'ENOLINK',
  'ENOMEM',
  'ENOMSG',
  'ENOPROTOOPT',
  'ENOSPC',
  'ENOSYS',
  'ENOTCONN',
  'ENOTDIR',
  'ENOTEMPTY',
  'ENOTRECOVERABLE',
  'ENOTSOCK',
  'ENOTSUP',
  'ENOTTY',
  'ENXIO',
  'EOVERFLOW',
  'EOWNERDEAD',
  'EPERM',
  'EPIPE',
  'EPROTO',
  'EPROTONOSUPPORT',
  'EPROTOTYPE',
  'ERANGE',
  'EROFS',
  'ESPIPE',
  'ESRCH',
  'ESTALE',
  'ETIMEDOUT',
  'ETXTBSY',
  'EXDEV',
  'ENOTCAPABLE',
] as const;
export type ErrnoName = (typeof ERRNO_NAMES)[number];

/** epoll event bits (Linux values; the shim asserts them against <sys/epoll.h>). Masks are
 *  unsigned: EPOLLET is bit 31. */
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;

/** Interest bits a guest may ask for (docs/ABI.md, watch). */
export const ALLOWED_EVENTS = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

/** epoll_ctl operations and shutdown() directions (Linux values, passed through the shim). */
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** One packed `struct epoll_event` in the guest's event ring: u32 events, u64 token. */
export const EVENT_SIZE = 12;
/** The most records one epollWait may ask for: the shim's bound (above it -EINVAL), far below
 *  Linux's own EP_MAX_EVENTS. A guest whose event ring is larger is refused at start. */
export const MAX_EVENTS = 65536;

/** One recv_many/send_many record: i32 handle, u32 buf, u32 len, i32 result. */
export const IO_RECORD_SIZE = 16;
/** The most records one recv_many/send_many takes (above it the call is -EINVAL). */
export const IO_MANY_MAX = 4096;

/** Counters a guest keeps at wl_stats_ptr (docs/ABI.md), in that order, STAT_SIZE bytes each. */
export const STAT_NAMES = [
  'accepted',
  'closed',
  'open',
  'requests',
  'bytesIn',
  'bytesOut',
  'acceptErrors',
  'protocolErrors',
  'buffersInUse',
  'timeouts',
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export const STAT_SIZE = 8;

/** The most unread input a trapped instance may hand over per connection: one core buffer
 *  (AS BUF_SIZE, assembly/pool.ts). A larger range named by wl_salvage_record is refused. */
export const MAX_CARRY_BYTES = 65536;
/** The most connection slots an instance has (AS MAX_CONNS_LIMIT, assembly/loop.ts): the cap
 *  on max-connections, and how many slots wl_salvage is asked about at most. */
export const MAX_SLOTS = 1048576;

/** wl_salvage's answers (docs/ABI.md, "Traps"); any negative value ends the walk (End). */
export const SalvageAction = { None: 0, Adopt: 1, Reply: 2, Close: 3, End: -1 } as const;
/** The record wl_salvage fills: i32 handle, then u32 pointer and u32 length of the unread
 *  input and of the output owed. */
export const SALVAGE_RECORD_SIZE = 20;
