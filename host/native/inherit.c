/*
 * Listeners inherited from a supervisor (systemd socket activation: `wasmloop run --listenfd`).
 * Such an fd was opened by someone else, so nothing about it is assumed: it is checked to be
 * a listening TCP stream socket before the loop or a command treats it as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "errno.h"
#include "net.h"

static int wl__fail(void) { return -wl__wasi_errno(errno); }

static int wl__sockopt_int(int fd, int name, int *value) {
  socklen_t len = sizeof *value;
  return getsockopt(fd, SOL_SOCKET, name, value, &len);
}

/* Sets O_NONBLOCK and FD_CLOEXEC: the loop never blocks on a listener, and a program the
 * host may start must not inherit it. 0, or -1 with errno set. */
static int wl__set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return -1;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) != 0) return -1;
  return 0;
}

int wl__adopt_listener(int fd) {
  if (fd < 0) return -WL__WASI_EBADF;
  int type, accepting, domain;
  if (wl__sockopt_int(fd, SO_TYPE, &type) != 0) return wl__fail(); /* EBADF, ENOTSOCK */
  if (wl__sockopt_int(fd, SO_ACCEPTCONN, &accepting) != 0) return wl__fail();
  if (wl__sockopt_int(fd, SO_DOMAIN, &domain) != 0) return wl__fail();
  if (type != SOCK_STREAM || !accepting) return -WL__WASI_EINVAL;
  /* Addresses are reported as IPv4/IPv6 text (wl__local_address); a Unix socket has none. */
  if (domain != AF_INET && domain != AF_INET6) return -WL__WASI_EAFNOSUPPORT;
  return wl__set_nonblock_cloexec(fd) == 0 ? 0 : wl__fail();
}

int wl__dup_listener(int fd) {
  if (fd < 0) return -WL__WASI_EBADF;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return copy >= 0 ? copy : wl__fail();
}
