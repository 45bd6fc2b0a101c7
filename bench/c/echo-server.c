/*
 * The reference epoll echo server: the physical limit wasm/echo.wasm is measured against.
 *
 *   usage: echo-server PORT        (listens on 127.0.0.1:PORT until killed)
 *
 * Written as a competent hand-written epoll server is, and the way wasmloop's own loop works,
 * so the comparison isolates the cost of the sandbox rather than of a different design:
 *  - one thread, level-triggered epoll; a connection is registered once, at accept, EPOLLIN;
 *  - per readiness event: one recv into a shared 64 KiB buffer and one send of what was read;
 *  - a short send keeps the rest in a per-connection 64 KiB buffer and switches the connection
 *    to EPOLLOUT alone (reading stops: backpressure) until it drains, then back to EPOLLIN.
 *    These are the only epoll_ctl calls after accept, so ping-pong traffic makes none;
 *  - accepted sockets get TCP_NODELAY, as wasmloop's do; accept takes at most 64 per event.
 * Nothing exotic: no io_uring, no busy polling, no SO_REUSEPORT threads.
 */
#include "util.h"

#include <sys/epoll.h>

#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256
#define ACCEPT_BUDGET 64

struct conn {
  int fd;
  char *out; /* unsent output after a short send, or NULL */
  uint32_t out_start, out_end;
};

static int epfd;
static char shared_buf[BUF_SIZE];

static void watch(struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data = {.ptr = c}};
  if (epoll_ctl(epfd, op, c->fd, &ev) != 0) die("epoll_ctl");
}

static void conn_close(struct conn *c) {
  close(c->fd); /* also leaves the epoll set */
  free(c->out);
  free(c);
}

static void accept_some(int lfd) {
  for (int i = 0; i < ACCEPT_BUDGET; i++) {
    int fd = accept_conn(lfd);
    if (fd < 0) return;
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->fd = fd;
    watch(c, EPOLL_CTL_ADD, EPOLLIN);
  }
}

/* Sends what is owed once; returns -1 if the connection was closed. */
static int flush(struct conn *c) {
  ssize_t n = send(c->fd, c->out + c->out_start, c->out_end - c->out_start, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return 0;
    conn_close(c);
    return -1;
  }
  c->out_start += (uint32_t)n;
  if (c->out_start == c->out_end) { /* drained: read again */
    free(c->out);
    c->out = NULL;
    watch(c, EPOLL_CTL_MOD, EPOLLIN);
  }
  return 0;
}

static void on_readable(struct conn *c) {
  ssize_t n = recv(c->fd, shared_buf, BUF_SIZE, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    conn_close(c); /* EOF or error */
    return;
  }
  ssize_t s = send(c->fd, shared_buf, (size_t)n, MSG_NOSIGNAL);
  if (s < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      conn_close(c);
      return;
    }
    s = 0;
  }
  if (s == n) return;
  c->out = malloc(BUF_SIZE); /* short send: keep the rest, stop reading until it drains */
  if (c->out == NULL) {
    conn_close(c);
    return;
  }
  memcpy(c->out, shared_buf + s, (size_t)(n - s));
  c->out_start = 0;
  c->out_end = (uint32_t)(n - s);
  watch(c, EPOLL_CTL_MOD, EPOLLOUT);
}

int main(int argc, char **argv) {
  int lfd;
  epfd = serve_loopback(argc, argv, "echo-server", &lfd);

  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      uint32_t e = evs[i].events;
      if (c == NULL) accept_some(lfd);
      else if (e & (EPOLLERR | EPOLLHUP)) conn_close(c);
      else if (c->out != NULL) {
        if (e & EPOLLOUT) flush(c);
      } else if (e & EPOLLIN) on_readable(c);
    }
  }
}
