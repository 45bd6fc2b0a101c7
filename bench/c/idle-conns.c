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

static int epfd;
static struct sockaddr_in addr;
static char probe[128];
static size_t probe_len = ECHO_PROBE_LEN;
static long opened, ready, failed;

/* Starts one more connection (non-blocking, SO_LINGER 0), watched for EPOLLOUT: connected. */
static void open_one(void) {
  static const struct linger lg = {.l_onoff = 1, .l_linger = 0};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) die("connect");
  struct epoll_event ev = {.events = EPOLLOUT, .data = {.fd = fd}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
  opened++;
}

/* A connection that failed: closed, and another one takes its place. */
static void drop(int fd) {
  close(fd);
  failed++, opened--;
}

/* One event on a connection in setup: connected (send the probe, then wait for the reply), or
 * the reply's first bytes (the connection is idle from now on: no longer watched). */
static void on_event(const struct epoll_event *e) {
  int fd = e->data.fd, err = 0;
  socklen_t len = sizeof err;
  if (e->events & EPOLLOUT) { /* connected (or failed): send the probe */
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = fd}};
    if (err != 0 || send(fd, probe, probe_len, MSG_NOSIGNAL) != (ssize_t)probe_len ||
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
      drop(fd);
    return;
  }
  char buf[4096];
  ssize_t r = recv(fd, buf, sizeof buf, 0);
  if (r > 0) { /* the server answered: this connection is now idle */
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    ready++;
  } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
    drop(fd);
  }
}

/* Sets up `count` idle connections, IN_FLIGHT at a time. 0, or 1 when too many failed or it
 * took longer than TIMEOUT_NS. */
static int open_all(long count) {
  uint64_t give_up = now_ns() + TIMEOUT_NS;
  struct epoll_event evs[IN_FLIGHT];
  while (ready < count) {
    while (opened < count && opened - ready < IN_FLIGHT) open_one();
    if (failed > count / 100 + 10) {
      fprintf(stderr, "idle-conns: %ld connections failed\n", failed);
      return 1;
    }
    if (now_ns() > give_up) {
      fprintf(stderr, "idle-conns: only %ld of %ld connections ready after 60 s\n", ready, count);
      return 1;
    }
    int n = epoll_wait(epfd, evs, IN_FLIGHT, 100);
    for (int i = 0; i < n; i++) on_event(&evs[i]);
  }
  return 0;
}

int main(int argc, char **argv) {
  int port = 0, http = 0, ch;
  long count = 0;
  while ((ch = getopt(argc, argv, "p:n:m:")) != -1) {
    if (ch == 'p') port = (int)parse_long(optarg, 1, 65535, "port");
    else if (ch == 'n') count = parse_long(optarg, 1, 1000000, "count");
    else if (ch == 'm') http = strcmp(optarg, "http") == 0;
    else break;
  }
  if (port == 0 || count == 0) {
    fprintf(stderr, "usage: idle-conns -p PORT -n COUNT [-m echo|http]\n");
    return 64;
  }
  raise_nofile();
  if (http) probe_len = (size_t)snprintf(probe, sizeof probe, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", BENCH_HOST, port);
  else memset(probe, 'x', probe_len);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  addr = loopback(port);
  if (open_all(count) != 0) return 1;
  printf("ready %ld\n", ready);
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
  }
  return 0;
}
