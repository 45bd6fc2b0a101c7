/*
 * Small helpers shared by the bench C programs (each is one .c file plus headers of bench/c/).
 * Everything is static inline so an unused helper costs nothing and warns about nothing.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Every program binds or connects to loopback only. */
#define BENCH_HOST "127.0.0.1"

static inline void die(const char *what) {
  perror(what);
  exit(1);
}

static inline long parse_long(const char *s, long lo, long hi, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "bad %s: %s\n", what, s);
    exit(64);
  }
  return v;
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Raises the soft descriptor limit to the hard one (the runner also raises the hard one). */
static inline void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

static inline void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static inline struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, BENCH_HOST, &a.sin_addr);
  return a;
}

/* A non-blocking listener on 127.0.0.1:port with the same options and backlog as wasmloop's
 * (SO_REUSEADDR, backlog 4096). */
static inline int listen_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("SO_REUSEADDR");
  struct sockaddr_in a = loopback(port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
  if (listen(fd, 4096) != 0) die("listen");
  return fd;
}

/* The start of a reference server run as `NAME PORT`: a loopback listener on PORT (into *lfd)
 * and an epoll set holding it with data.ptr NULL, so an event with NULL is the listener's.
 * Returns the epoll fd; exits 64 on bad usage. */
static inline int serve_loopback(int argc, char **argv, const char *name, int *lfd) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", name);
    exit(64);
  }
  raise_nofile();
  *lfd = listen_loopback((int)parse_long(argv[1], 1, 65535, "port"));
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data = {.ptr = NULL}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, *lfd, &lev) != 0) die("epoll_ctl listener");
  fprintf(stderr, "%s: listening on %s:%s\n", name, BENCH_HOST, argv[1]);
  return epfd;
}

/* One pending connection, non-blocking, close-on-exec, with TCP_NODELAY as wasmloop's get; -1
 * when none is left (EMFILE and friends are reported, and retried at the next event). */
static inline int accept_conn(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);
      return fd;
    }
    if (errno == ECONNABORTED || errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) perror("accept4");
    return -1;
  }
}

#endif
