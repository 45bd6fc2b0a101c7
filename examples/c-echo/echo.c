/*
 * An echo server written for POSIX poll(), as a C programmer would write one, that runs
 * unchanged as a WASI preview1 command under `wasmloop run --tcplisten` and natively on Linux.
 *
 *   wasm:   wasmloop run --tcplisten 127.0.0.1:7000 echo.wasm
 *   native: ./echo PORT        (listens on 127.0.0.1:PORT)
 *
 * Under WASI the listener is the host's preopened descriptor 3 (preview1 has no socket(),
 * bind() or listen()); natively the program opens it itself. That, and TCP_NODELAY (which
 * wasmloop sets for the guest), are the only #ifdefs: the loop is the same source for both,
 * so the benchmark compares the same program.
 *
 * The loop: one poll() over the listener and every client. A client's bytes are read into a
 * shared 64 KiB buffer and sent straight back; what a short send leaves is kept for that
 * client, which is then polled for POLLOUT only (no more reading: backpressure) until it is
 * sent. Every descriptor is non-blocking, so no call but poll() waits. At MAX_CLIENTS the
 * listener is left out of the poll set (fd -1), so new clients wait in the backlog.
 * Built for wasm with a 1 MiB stack (build.sh): wasi-libc's poll() keeps its poll_oneoff
 * subscriptions on the stack, about 100 KiB for MAX_CLIENTS + 1 descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef __wasi__
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

#define MAX_CLIENTS 1024
#define BUF_SIZE (64 * 1024)

struct client {
  int fd;
  char *pending; /* bytes a short send left, or NULL */
  size_t pending_start, pending_end;
};

static struct client clients[MAX_CLIENTS];
static size_t client_count;
static struct pollfd fds[MAX_CLIENTS + 1];
static char shared_buf[BUF_SIZE];

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

#ifdef __wasi__
/* The first listener given with --tcplisten. */
static int open_listener(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 3;
}
#else
static int open_listener(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    exit(2);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(fd, 511) < 0) die("listen");
  return fd;
}
#endif

static void drop_client(size_t i) {
  close(clients[i].fd);
  free(clients[i].pending);
  clients[i] = clients[--client_count]; /* the last one takes its place */
}

#ifdef __wasi__
static void tune_client(int fd) { (void)fd; }
#else
/* wasmloop sets TCP_NODELAY on every socket it accepts, so the native build does too: the two
 * then behave the same on the wire. */
static void tune_client(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
#endif

static void accept_clients(int listener) {
  while (client_count < MAX_CLIENTS) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) perror("accept");
      return;
    }
    set_nonblocking(fd);
    tune_client(fd);
    clients[client_count++] = (struct client){.fd = fd};
  }
}

/* Sends what the client is owed; returns -1 when the connection failed. */
static int send_pending(struct client *c) {
  while (c->pending_start < c->pending_end) {
    ssize_t n = send(c->fd, c->pending + c->pending_start, c->pending_end - c->pending_start, 0);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    c->pending_start += (size_t)n;
  }
  free(c->pending);
  c->pending = NULL;
  return 0;
}

/* Reads once and echoes what came; returns -1 when the client is gone. */
static int echo_once(struct client *c) {
  ssize_t got = recv(c->fd, shared_buf, sizeof shared_buf, 0);
  if (got == 0) return -1;
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  ssize_t sent = send(c->fd, shared_buf, (size_t)got, 0);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
  if (sent == got) return 0;
  size_t done = sent < 0 ? 0 : (size_t)sent;
  c->pending = malloc((size_t)got - done);
  if (c->pending == NULL) return -1;
  memcpy(c->pending, shared_buf + done, (size_t)got - done);
  c->pending_start = 0;
  c->pending_end = (size_t)got - done;
  return 0;
}

/* Serves the clients poll() reported, from the last so that dropping one moves only a served one. */
static void serve_clients(void) {
  for (size_t i = client_count; i-- > 0;) {
    short revents = fds[i + 1].revents;
    if (revents == 0) continue;
    struct client *c = &clients[i];
    int ok = c->pending ? send_pending(c) : echo_once(c);
    if (ok < 0) drop_client(i);
  }
}

int main(int argc, char **argv) {
  int listener = open_listener(argc, argv);
  set_nonblocking(listener);
  for (;;) {
    fds[0] = (struct pollfd){.fd = client_count < MAX_CLIENTS ? listener : -1, .events = POLLIN};
    for (size_t i = 0; i < client_count; i++) {
      short events = clients[i].pending ? POLLOUT : POLLIN;
      fds[i + 1] = (struct pollfd){.fd = clients[i].fd, .events = events};
    }
    if (poll(fds, client_count + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    serve_clients(); /* before accepting: fds[i + 1] belongs to clients[i] only until then */
    if (fds[0].revents) accept_clients(listener);
  }
}
