/**
 * WASI preview1 errno values: the numbering every wasmloop hostcall and every kernel call
 * uses for its negative returns. The native shim translates Linux errno into these in C
 * (host/native/errno.c), so no Linux number ever reaches the host or a guest.
 */
const NAMES = [
  'ESUCCESS', 'E2BIG', 'EACCES', 'EADDRINUSE', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EAGAIN',
  'EALREADY', 'EBADF', 'EBADMSG', 'EBUSY', 'ECANCELED', 'ECHILD', 'ECONNABORTED',
  'ECONNREFUSED', 'ECONNRESET', 'EDEADLK', 'EDESTADDRREQ', 'EDOM', 'EDQUOT', 'EEXIST',
  'EFAULT', 'EFBIG', 'EHOSTUNREACH', 'EIDRM', 'EILSEQ', 'EINPROGRESS', 'EINTR', 'EINVAL',
  'EIO', 'EISCONN', 'EISDIR', 'ELOOP', 'EMFILE', 'EMLINK', 'EMSGSIZE', 'EMULTIHOP',
  'ENAMETOOLONG', 'ENETDOWN', 'ENETRESET', 'ENETUNREACH', 'ENFILE', 'ENOBUFS', 'ENODEV',
  'ENOENT', 'ENOEXEC', 'ENOLCK', 'ENOLINK', 'ENOMEM', 'ENOMSG', 'ENOPROTOOPT', 'ENOSPC',
  'ENOSYS', 'ENOTCONN', 'ENOTDIR', 'ENOTEMPTY', 'ENOTRECOVERABLE', 'ENOTSOCK', 'ENOTSUP',
  'ENOTTY', 'ENXIO', 'EOVERFLOW', 'EOWNERDEAD', 'EPERM', 'EPIPE', 'EPROTO',
  'EPROTONOSUPPORT', 'EPROTOTYPE', 'ERANGE', 'EROFS', 'ESPIPE', 'ESRCH', 'ESTALE',
  'ETIMEDOUT', 'ETXTBSY', 'EXDEV', 'ENOTCAPABLE',
] as const;

export type ErrnoName = (typeof NAMES)[number];

/** WASI errno numbers by name, e.g. `Errno.EAGAIN === 6`. */
export const Errno = Object.freeze(
  Object.fromEntries(NAMES.map((name, value) => [name, value])) as Record<ErrnoName, number>,
);

/** The name of a WASI errno, given either sign (`-6` and `6` are both `EAGAIN`). */
export function errnoName(code: number): string {
  return NAMES[Math.abs(code)] ?? `E${Math.abs(code)}`;
}
