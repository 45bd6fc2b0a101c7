/*
 * Opens COUNT connections to a server and leaves them idle, for the memory-per-connection figure.
 *
 *   usage: idle-conns -p PORT -n COUNT [-m echo|http]
 *
 * Each connection makes one round trip first (64 bytes for echo, one GET for HTTP) and waits
 * for the first byte of the reply, so the server has really accepted it and run it through its
 * request path once, like a keep-alive connection between two requests. Then it stays idle.
 * At most 256 connections are being set up at a time, so the listen backlog never overflows.
 *
 * Prints "ready N" on stdout once N connections are idle, then waits for EOF on stdin (or a
 * signal). Sockets use SO_LINGER 0: they close with a reset, so the tens of thousands of
 * connections a full bench run makes leave no TIME_WAIT behind to exhaust ephemeral ports.
 */
#include "util.h"

#include <sys/epoll.h>

#define IN_FLIGHT 256
#define TIMEOUT_NS (60 * 1000000000ull)

#define ECHO_PROBE_LEN 64

/* What one run sets up: the options, the probe it sends, and its counts. */
struct run {
  int port, http, epfd;
  long count, opened, ready, failed;
  char probe[128];
  size_t probe_len;
  struct sockaddr_in addr;
};

static void parse_args(struct run *r, int argc, char **argv) {
  int ch;
  while ((ch = getopt(argc, argv, "p:n:m:")) != -1) {
    if (ch == 'p') r->port = (int)parse_long(optarg, 1, 65535, "port");
    else if (ch == 'n') r->count = parse_long(optarg, 1, 1000000, "count");
    else if (ch == 'm') r->http = strcmp(optarg, "http") == 0;
    else break;
  }
  if (r->port == 0 || r->count == 0) {
    fprintf(stderr, "usage: idle-conns -p PORT -n COUNT [-m echo|http]\n");
    exit(64);
  }
  r->probe_len = ECHO_PROBE_LEN;
  if (r->http)
    r->probe_len = (size_t)snprintf(r->probe, sizeof r->probe,
                                    "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", BENCH_HOST, r->port);
  else memset(r->probe, 'x', r->probe_len);
}

/* Keeps up to IN_FLIGHT connections in setup. */
static void open_more(struct run *r) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  while (r->opened < r->count && r->opened - r->ready < IN_FLIGHT) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, (struct sockaddr *)&r->addr, sizeof r->addr) != 0 && errno != EINPROGRESS)
      die("connect");
    struct epoll_event ev = {.events = EPOLLOUT, .data = {.fd = fd}};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    r->opened++;
  }
}

/* A connection that failed is closed and replaced by another. */
static void lost(struct run *r, int fd) {
  close(fd);
  r->failed++, r->opened--;
}

/* Connected (or failed): send the probe; answered: the connection is now idle. */
static void on_event(struct run *r, const struct epoll_event *e) {
  int fd = e->data.fd, err = 0;
  socklen_t len = sizeof err;
  if (e->events & EPOLLOUT) {
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = fd}};
    if (err != 0 || send(fd, r->probe, r->probe_len, MSG_NOSIGNAL) != (ssize_t)r->probe_len ||
        epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
      lost(r, fd);
    return;
  }
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n > 0) {
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
    r->ready++;
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    lost(r, fd);
  }
}

int main(int argc, char **argv) {
  struct run r = {0};
  parse_args(&r, argc, argv);
  raise_nofile();
  r.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (r.epfd < 0) die("epoll_create1");
  r.addr = loopback(r.port);
  uint64_t give_up = now_ns() + TIMEOUT_NS;
  struct epoll_event evs[IN_FLIGHT];
  while (r.ready < r.count) {
    open_more(&r);
    if (r.failed > r.count / 100 + 10) {
      fprintf(stderr, "idle-conns: %ld connections failed\n", r.failed);
      return 1;
    }
    if (now_ns() > give_up) {
      fprintf(stderr, "idle-conns: only %ld of %ld connections ready after 60 s\n", r.ready, r.count);
      return 1;
    }
    int n = epoll_wait(r.epfd, evs, IN_FLIGHT, 100);
    for (int i = 0; i < n; i++) on_event(&r, &evs[i]);
  }
  printf("ready %ld\n", r.ready);
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
  }
  return 0;
}
