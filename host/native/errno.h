/*
 * Linux errno -> WASI preview1 errno.
 *
 * WL__ERRNO_TABLE is the ONE table of the translation: X(NAME, wasi) for every name in
 * host/errno.ts that Linux has (all but ESUCCESS and ENOTCAPABLE). The WASI numbers are the
 * indices of host/errno.ts's NAMES array. Linux aliases (EWOULDBLOCK == EAGAIN,
 * EDEADLOCK == EDEADLK, EOPNOTSUPP == ENOTSUP) share a value and so a row; errno.c asserts it.
 */
#ifndef WL_ERRNO_H
#define WL_ERRNO_H

#define WL__ERRNO_TABLE(X)                                                                 \
  X(E2BIG, 1) X(EACCES, 2) X(EADDRINUSE, 3) X(EADDRNOTAVAIL, 4) X(EAFNOSUPPORT, 5)        \
  X(EAGAIN, 6) X(EALREADY, 7) X(EBADF, 8) X(EBADMSG, 9) X(EBUSY, 10) X(ECANCELED, 11)     \
  X(ECHILD, 12) X(ECONNABORTED, 13) X(ECONNREFUSED, 14) X(ECONNRESET, 15)                 \
  X(EDEADLK, 16) X(EDESTADDRREQ, 17) X(EDOM, 18) X(EDQUOT, 19) X(EEXIST, 20)              \
  X(EFAULT, 21) X(EFBIG, 22) X(EHOSTUNREACH, 23) X(EIDRM, 24) X(EILSEQ, 25)               \
  X(EINPROGRESS, 26) X(EINTR, 27) X(EINVAL, 28) X(EIO, 29) X(EISCONN, 30) X(EISDIR, 31)   \
  X(ELOOP, 32) X(EMFILE, 33) X(EMLINK, 34) X(EMSGSIZE, 35) X(EMULTIHOP, 36)               \
  X(ENAMETOOLONG, 37) X(ENETDOWN, 38) X(ENETRESET, 39) X(ENETUNREACH, 40) X(ENFILE, 41)   \
  X(ENOBUFS, 42) X(ENODEV, 43) X(ENOENT, 44) X(ENOEXEC, 45) X(ENOLCK, 46) X(ENOLINK, 47)  \
  X(ENOMEM, 48) X(ENOMSG, 49) X(ENOPROTOOPT, 50) X(ENOSPC, 51) X(ENOSYS, 52)              \
  X(ENOTCONN, 53) X(ENOTDIR, 54) X(ENOTEMPTY, 55) X(ENOTRECOVERABLE, 56) X(ENOTSOCK, 57)  \
  X(ENOTSUP, 58) X(ENOTTY, 59) X(ENXIO, 60) X(EOVERFLOW, 61) X(EOWNERDEAD, 62)            \
  X(EPERM, 63) X(EPIPE, 64) X(EPROTO, 65) X(EPROTONOSUPPORT, 66) X(EPROTOTYPE, 67)        \
  X(ERANGE, 68) X(EROFS, 69) X(ESPIPE, 70) X(ESRCH, 71) X(ESTALE, 72) X(ETIMEDOUT, 73)    \
  X(ETXTBSY, 74) X(EXDEV, 75)

/* WL__WASI_EINVAL == 28 and so on: the shim's own errors, named from the same table. */
#define WL__WASI_ENUM(name, wasi) WL__WASI_##name = (wasi),
enum wl__wasi_errno { WL__ERRNO_TABLE(WL__WASI_ENUM) };
#undef WL__WASI_ENUM

/* The positive WASI errno for a Linux errno; EIO for anything the table does not name. */
int wl__wasi_errno(int linux_errno);

#endif
