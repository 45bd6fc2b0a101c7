/*
 * The reference epoll HTTP/1.1 server: the physical limit wasm/hello.wasm is measured against.
 *
 *   usage: http-server PORT        (listens on 127.0.0.1:PORT until killed)
 *
 * Every request gets the same bytes as wasm/hello.wasm sends to an HTTP/1.1 keep-alive request:
 *   HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!
 * It does the parsing a careful hand-written server does and no more: the request line and
 * version are checked, Connection and Content-Length are read (a body is skipped), HEAD gets no
 * body, HTTP/1.0 keeps the connection only when asked, and anything it cannot handle
 * (Transfer-Encoding, malformed heads, heads over 8 KiB) gets 400 and a close.
 *
 * The I/O design matches echo-server.c and wasmloop's loop: one thread, level-triggered epoll,
 * each connection registered once (EPOLLIN); per readiness event one recv (into a shared 64 KiB
 * buffer, or into the connection's own buffer while it holds a partial request), the responses
 * to every complete request in it written together, and one send. Pipelined requests are thus
 * answered with one send per read. A short send switches the connection to EPOLLOUT alone until
 * the output drains; that and accept are the only epoll_ctl calls.
 */
#include "util.h"

#include <sys/epoll.h>

#include "http-parse.h"

#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256
#define ACCEPT_BUDGET 64
#define MAX_HEAD 8192
/* Room a response needs in the output before another request is taken off the input. */
#define RESPONSE_ROOM 256

static const char OK_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n";
static const char KEEP_ALIVE[] = "Connection: keep-alive\r\n";
static const char CLOSE[] = "Connection: close\r\n";
static const char BODY[] = "Hello, World!";
static const char BAD[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

struct conn {
  int fd;
  char *in;               /* buffered input (a partial request), or NULL */
  uint32_t in_start, in_end;
  uint32_t scanned;       /* bytes of the current head already searched for its end */
  int64_t body_left;      /* request body bytes still to skip */
  char *out;              /* unsent output after a short send, or NULL */
  uint32_t out_start, out_end;
  int closing;            /* close once the output is sent */
};

static int epfd;
static char recv_buf[BUF_SIZE];
static char out_buf[BUF_SIZE];

static void watch(struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data = {.ptr = c}};
  if (epoll_ctl(epfd, op, c->fd, &ev) != 0) die("epoll_ctl");
}

static void conn_close(struct conn *c) {
  close(c->fd);
  free(c->in);
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

/* ---- responses (the head is parsed in http-parse.h) ------------------------------------- */

static size_t append(size_t at, const char *s, size_t n) {
  memcpy(out_buf + at, s, n);
  return at + n;
}

/* Writes the response to r after out_buf[0..out); returns the new end. Sets c->closing when
 * the response ends the connection. */
static size_t answer(struct conn *c, const struct request *r, size_t out) {
  out = append(out, OK_HEAD, sizeof OK_HEAD - 1);
  if (!r->keep_alive) {
    out = append(out, CLOSE, sizeof CLOSE - 1);
    c->closing = 1;
  } else if (r->minor == 0) {
    out = append(out, KEEP_ALIVE, sizeof KEEP_ALIVE - 1);
  }
  out = append(out, "\r\n", 2);
  if (!r->head) out = append(out, BODY, sizeof BODY - 1);
  return out;
}

/* Writes the 400 after out_buf[0..out) and marks the connection closing. */
static size_t refuse(struct conn *c, size_t out) {
  out = append(out, BAD, sizeof BAD - 1);
  c->closing = 1;
  return out;
}

/* Answers every complete request in in[0..len) into out_buf. Returns the bytes consumed and
 * sets *out_len; sets c->closing when a response ends the connection (the input after a
 * refused request counts as consumed: it is never looked at). */
static size_t respond(struct conn *c, const char *in, size_t len, size_t *out_len) {
  size_t used = 0, out = 0;
  while (used < len && !c->closing) {
    if (c->body_left > 0) {
      size_t take = (size_t)c->body_left < len - used ? (size_t)c->body_left : len - used;
      c->body_left -= (int64_t)take;
      used += take;
      continue;
    }
    if (BUF_SIZE - out < RESPONSE_ROOM) break;
    const char *p = in + used;
    size_t avail = len - used;
    if (avail >= 2 && p[0] == '\r' && p[1] == '\n' && c->scanned == 0) { /* RFC 9112 2.2 */
      used += 2;
      continue;
    }
    size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
    const char *hend = from < avail ? memmem(p + from, avail - from, "\r\n\r\n", 4) : NULL;
    if (hend == NULL) {
      c->scanned = (uint32_t)avail;
      if (avail >= MAX_HEAD) {
        out = refuse(c, out);
        used = len;
      }
      break;
    }
    size_t hlen = (size_t)(hend - p) + 4;
    c->scanned = 0;
    struct request r;
    if (parse_head(p, hlen, &r) != 0) {
      out = refuse(c, out);
      used = len;
      break;
    }
    used += hlen;
    c->body_left = r.body;
    out = answer(c, &r, out);
  }
  *out_len = out;
  return used;
}

/* ---- I/O ---------------------------------------------------------------------------------- */

/* Sends out_buf[0..len) once; a short send keeps the rest and switches to EPOLLOUT. Returns -1
 * if the connection was closed. */
static int send_responses(struct conn *c, size_t len) {
  ssize_t s = send(c->fd, out_buf, len, MSG_NOSIGNAL);
  if (s < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      conn_close(c);
      return -1;
    }
    s = 0;
  }
  if ((size_t)s == len) {
    if (c->closing) {
      conn_close(c);
      return -1;
    }
    return 0;
  }
  c->out = malloc(BUF_SIZE);
  if (c->out == NULL) {
    conn_close(c);
    return -1;
  }
  memcpy(c->out, out_buf + s, len - (size_t)s);
  c->out_start = 0;
  c->out_end = (uint32_t)(len - (size_t)s);
  watch(c, EPOLL_CTL_MOD, EPOLLOUT);
  return 0;
}

/* Answers what is buffered in [in, in + len) and keeps the unconsumed rest in c->in. Loops only
 * when the output filled up before the input was used (a very deep pipeline). */
static void service(struct conn *c, const char *in, size_t len) {
  for (;;) {
    size_t out_len;
    size_t used = respond(c, in, len, &out_len);
    in += used;
    len -= used;
    if (out_len > 0 && send_responses(c, out_len) != 0) return;
    if (c->closing) return; /* the rest of the input is ignored */
    if (c->out != NULL || used == 0 || len == 0) break;
  }
  if (len == 0) { /* nothing left over: an idle connection owns no buffer */
    free(c->in);
    c->in = NULL;
    c->in_start = c->in_end = 0;
    return;
  }
  if (c->in == NULL) {
    c->in = malloc(BUF_SIZE);
    if (c->in == NULL) {
      conn_close(c);
      return;
    }
  }
  memmove(c->in, in, len);
  c->in_start = 0;
  c->in_end = (uint32_t)len;
}

static void on_readable(struct conn *c) {
  char *at = recv_buf;
  size_t room = BUF_SIZE;
  if (c->in != NULL) { /* a partial request is buffered: read after it */
    at = c->in + c->in_end;
    room = BUF_SIZE - c->in_end;
    if (room == 0) {
      conn_close(c);
      return;
    }
  }
  ssize_t n = recv(c->fd, at, room, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    conn_close(c);
    return;
  }
  if (c->in != NULL) {
    c->in_end += (uint32_t)n;
    service(c, c->in + c->in_start, c->in_end - c->in_start);
  } else {
    service(c, recv_buf, (size_t)n);
  }
}

static void on_writable(struct conn *c) {
  ssize_t n = send(c->fd, c->out + c->out_start, c->out_end - c->out_start, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) conn_close(c);
    return;
  }
  c->out_start += (uint32_t)n;
  if (c->out_start < c->out_end) return;
  free(c->out);
  c->out = NULL;
  if (c->closing) {
    conn_close(c);
    return;
  }
  watch(c, EPOLL_CTL_MOD, EPOLLIN);
  if (c->in != NULL) service(c, c->in + c->in_start, c->in_end - c->in_start);
}

int main(int argc, char **argv) {
  int lfd;
  epfd = serve_loopback(argc, argv, "http-server", &lfd);

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
        if (e & EPOLLOUT) on_writable(c);
      } else if (e & EPOLLIN) on_readable(c);
    }
  }
}
