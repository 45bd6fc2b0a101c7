#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "errno.h"
#include "tls.h"

/* The current errno as a negative WASI errno. */
static int wl__fail(void) { return -wl__wasi_errno(errno); }

int wl__epoll_create(void) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd >= 0 ? fd : wl__fail();
}

int wl__epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
  if (wl__tls_active()) events = wl__tls_watch(epfd, op, fd, events, data);
  struct epoll_event ev = {.events = events, .data = {.u64 = data}};
  return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : wl__fail();
}

/* ---- epoll_wait into packed guest records ---------------------------------------------- */

#if defined(__x86_64__) && !defined(WL__FORCE_REPACK)
/*
 * On x86-64 the kernel ABI's struct epoll_event is packed (glibc: __EPOLL_PACKED): exactly the
 * guest's 12-byte little-endian record, with alignment 1, so the kernel writes straight into
 * guest memory at any offset.
 */
_Static_assert(sizeof(struct epoll_event) == WL__EVENT_SIZE, "epoll_event must be packed");
_Static_assert(_Alignof(struct epoll_event) == 1, "epoll_event must need no alignment");

static int wl__epoll_wait_once(int epfd, void *out, int max_events, int timeout_ms) {
  return epoll_wait(epfd, (struct epoll_event *)out, max_events, timeout_ms);
}
#else
/*
 * Elsewhere struct epoll_event is padded (16 bytes) and may be big-endian: wait into a stack
 * array and repack. Fewer events than asked per call is allowed by epoll_wait's contract; the
 * rest stay ready for the next call.
 */
#define WL__REPACK_MAX 256

static void wl__store_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int wl__epoll_wait_once(int epfd, void *out, int max_events, int timeout_ms) {
  struct epoll_event evs[WL__REPACK_MAX];
  int n = epoll_wait(epfd, evs, max_events < WL__REPACK_MAX ? max_events : WL__REPACK_MAX,
                     timeout_ms);
  unsigned char *rec = out;
  for (int i = 0; i < n; i++, rec += WL__EVENT_SIZE) {
    wl__store_le(rec, evs[i].events, 4);
    wl__store_le(rec + 4, evs[i].data.u64, 8);
  }
  return n;
}
#endif

static int64_t wl__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wl__epoll_wait(int epfd, void *out, int max_events, int timeout_ms) {
  /* A signal must not shorten or stretch the wait: retry with what is left of the timeout. */
  bool tls = wl__tls_active(); /* TLS may owe events no socket reports (tls-conn.c) */
  if (tls) timeout_ms = wl__tls_wait_bound(epfd, timeout_ms);
  int64_t deadline = timeout_ms > 0 ? wl__now_ms() + timeout_ms : 0;
  for (;;) {
    int n = wl__epoll_wait_once(epfd, out, max_events, timeout_ms);
    if (n >= 0) return tls ? wl__tls_inject(epfd, out, n, max_events) : n;
    if (errno != EINTR) return wl__fail();
    if (timeout_ms > 0) {
      int64_t left = deadline - wl__now_ms();
      timeout_ms = left > 0 ? (int)left : 0;
    }
  }
}

int wl__check_epoll(int fd) {
  static const char want[] = "anon_inode:[eventpoll]";
  char path[32], target[sizeof want];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target);
  bool no_proc = n < 0 && errno == ENOENT; /* for an open fd: /proc is not mounted */
  if (n == (ssize_t)sizeof want - 1 && memcmp(target, want, sizeof want - 1) == 0) return 0;
  if (fcntl(fd, F_GETFD) < 0) return wl__fail();
  return no_proc ? 0 : -WL__WASI_EINVAL;
}

/* ---- listeners ------------------------------------------------------------------------- */

union wl__sockaddr {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
  struct sockaddr_storage storage;
};

/* Parses a numeric host (no brackets, no scope id) into addr; its length, or 0 if invalid. */
static socklen_t wl__parse_addr(const char *host, int port, union wl__sockaddr *addr) {
  memset(addr, 0, sizeof *addr);
  if (inet_pton(AF_INET, host, &addr->in4.sin_addr) == 1) {
    addr->in4.sin_family = AF_INET;
    addr->in4.sin_port = htons((uint16_t)port);
    return sizeof addr->in4;
  }
  if (inet_pton(AF_INET6, host, &addr->in6.sin6_addr) == 1) {
    addr->in6.sin6_family = AF_INET6;
    addr->in6.sin6_port = htons((uint16_t)port);
    return sizeof addr->in6;
  }
  return 0;
}

static int wl__set_flag(int fd, int level, int name) {
  int one = 1;
  return setsockopt(fd, level, name, &one, sizeof one);
}

/* Options, bind and listen on a fresh socket: 0, or -1 with errno set. */
static int wl__bind_listen(int fd, const union wl__sockaddr *addr, socklen_t len,
                           int backlog, bool reuse_port) {
  if (wl__set_flag(fd, SOL_SOCKET, SO_REUSEADDR) != 0) return -1;
  if (reuse_port && wl__set_flag(fd, SOL_SOCKET, SO_REUSEPORT) != 0) return -1;
  /* "::" must not also take the IPv4 port: v4 and v6 listeners are configured separately. */
  if (addr->sa.sa_family == AF_INET6 && wl__set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY) != 0) {
    return -1;
  }
  if (bind(fd, &addr->sa, len) != 0) return -1;
  return listen(fd, backlog);
}

int wl__listen(const char *host, int port, int backlog, bool reuse_port) {
  union wl__sockaddr addr;
  socklen_t len = wl__parse_addr(host, port, &addr);
  if (len == 0) return -WL__WASI_EINVAL;
  int fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return wl__fail();
  if (wl__bind_listen(fd, &addr, len, backlog, reuse_port) != 0) {
    int err = wl__fail(); /* before close(), which may overwrite errno */
    close(fd);
    return err;
  }
  return fd;
}

/* A socket address as numeric text, port and family (4 or 6). */
static int wl__address_text(const union wl__sockaddr *addr, char host[WL__HOST_MAX], int *port,
                            int *family) {
  const void *ip;
  if (addr->sa.sa_family == AF_INET) {
    ip = &addr->in4.sin_addr;
    *port = ntohs(addr->in4.sin_port);
    *family = 4;
  } else if (addr->sa.sa_family == AF_INET6) {
    ip = &addr->in6.sin6_addr;
    *port = ntohs(addr->in6.sin6_port);
    *family = 6;
  } else {
    return -WL__WASI_EAFNOSUPPORT; /* e.g. a Unix socket */
  }
  return inet_ntop(addr->sa.sa_family, ip, host, WL__HOST_MAX) ? 0 : wl__fail();
}

int wl__local_address(int fd, char host[WL__HOST_MAX], int *port, int *family) {
  union wl__sockaddr addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, &addr.sa, &len) != 0) return wl__fail();
  return wl__address_text(&addr, host, port, family);
}

int wl__peer_address(int fd, char host[WL__HOST_MAX], int *port, int *family) {
  union wl__sockaddr addr;
  socklen_t len = sizeof addr;
  if (getpeername(fd, &addr.sa, &len) != 0) return wl__fail();
  return wl__address_text(&addr, host, port, family);
}

/* ---- connections ----------------------------------------------------------------------- */

/*
 * accept(2): Linux passes errors already pending on the new connection out of accept4 and
 * says to treat them like EAGAIN. They are reported as ECONNABORTED, the ABI's "one was
 * reset before it was accepted, try again". (EOPNOTSUPP is left alone: it means the fd is
 * not a stream socket.)
 */
static int wl__accept_errno(int err) {
  switch (err) {
    case ENETDOWN: case EPROTO: case ENOPROTOOPT: case EHOSTDOWN:
    case ENONET: case EHOSTUNREACH: case ENETUNREACH:
      return -WL__WASI_ECONNABORTED;
    default:
      return -wl__wasi_errno(err);
  }
}

int wl__accept(int fd) {
  int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (conn < 0) return wl__accept_errno(errno);
  int err = wl__set_flag(conn, IPPROTO_TCP, TCP_NODELAY) != 0 ? wl__fail() : 0;
  if (err == 0 && wl__tls_active()) err = wl__tls_accepted(fd, conn);
  if (err != 0) {
    close(conn);
    return err;
  }
  return conn;
}

static size_t wl__clamp(uint32_t len) { return len > INT32_MAX ? INT32_MAX : len; }

int wl__recv(int fd, void *buf, uint32_t len) {
  if (wl__tls_active() && wl__tls_is(fd)) return wl__tls_recv(fd, buf, len);
  long n = syscall(SYS_recvfrom, fd, buf, wl__clamp(len), 0, NULL, NULL);
  return n >= 0 ? (int)n : wl__fail();
}

int wl__send(int fd, const void *buf, uint32_t len) {
  if (wl__tls_active() && wl__tls_is(fd)) return wl__tls_send(fd, buf, len);
  long n = syscall(SYS_sendto, fd, buf, wl__clamp(len), MSG_NOSIGNAL, NULL, 0);
  return n >= 0 ? (int)n : wl__fail();
}

int wl__shutdown(int fd, int how) {
  if (wl__tls_active() && wl__tls_is(fd)) return wl__tls_shutdown(fd, how);
  return shutdown(fd, how) == 0 ? 0 : wl__fail();
}

int wl__close(int fd) {
  /*
   * Linux releases the descriptor even when close() reports EINTR, so that is success:
   * a caller that retried could close a descriptor another thread was just given.
   */
  if (wl__tls_active()) wl__tls_forget(fd);
  if (close(fd) == 0 || errno == EINTR) return 0;
  return wl__fail();
}

/* ---- batched I/O ----------------------------------------------------------------------- */

static uint32_t wl__load_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wl__store_u32le(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Each record is checked and done in order, exactly as recv/send would: len 0 is -EINVAL,
 * [buf, buf + len) outside memory -EFAULT. For recv, buf 0 means "in the area": the bytes go
 * to the area's first free byte, which is stored in buf, if len bytes are free there, else the
 * result is -EAGAIN (no syscall); len above area_len is -EINVAL. One tight loop: it is the
 * per-request path, so no call per record but the syscall.
 */
int wl__io_many(const int32_t *fds, unsigned char *mem, size_t size, uint32_t ptr, uint32_t n,
                uint32_t area, uint32_t area_len, bool is_send) {
  if ((uint64_t)ptr + (uint64_t)n * WL__IO_RECORD > (uint64_t)size ||
      (uint64_t)area + area_len > (uint64_t)size) {
    return -WL__WASI_EFAULT;
  }
  uint32_t free_at = area, area_end = area + area_len; /* area_end <= size: no wrap-around */
  for (uint32_t i = 0; i < n; i++) {
    unsigned char *rec = mem + ptr + (size_t)i * WL__IO_RECORD;
    uint32_t buf = wl__load_u32le(rec + 4), len = wl__load_u32le(rec + 8);
    bool in_area = !is_send && buf == 0;
    int r = fds[i];
    if (r < 0) {
      /* the host's verdict on the handle */
    } else if (len == 0 || (in_area && len > area_len)) {
      r = -WL__WASI_EINVAL;
    } else if (in_area && area_end - free_at < len) {
      r = -WL__WASI_EAGAIN;
    } else if (in_area) {
      r = wl__recv(r, mem + free_at, len);
      wl__store_u32le(rec + 4, free_at);
      if (r > 0) free_at += (uint32_t)r;
    } else if ((uint64_t)buf + len > (uint64_t)size) {
      r = -WL__WASI_EFAULT;
    } else {
      r = is_send ? wl__send(r, mem + buf, len) : wl__recv(r, mem + buf, len);
    }
    wl__store_u32le(rec + 12, (uint32_t)r); /* modulo 2^32: the i32 bit pattern */
  }
  return 0;
}
