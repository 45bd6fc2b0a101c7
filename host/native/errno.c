#include "errno.h"

#include <errno.h>

/* Aliases share a Linux value, so one row (and one switch case) serves both names. */
_Static_assert(EWOULDBLOCK == EAGAIN, "EWOULDBLOCK must alias EAGAIN");
_Static_assert(EDEADLOCK == EDEADLK, "EDEADLOCK must alias EDEADLK");
_Static_assert(EOPNOTSUPP == ENOTSUP, "EOPNOTSUPP must alias ENOTSUP");

int wl__wasi_errno(int linux_errno) {
  /* A switch over constants: the compiler turns it into a jump table. */
  switch (linux_errno) {
#define WL__CASE(name, wasi) \
  case name:                 \
    return (wasi);
    WL__ERRNO_TABLE(WL__CASE)
#undef WL__CASE
    default:
      return WL__WASI_EIO;
  }
}
