/*
 * The load generator for the echo scenarios (and for the exact-count HTTP runs under strace).
 *
 *   usage: echo-load -p PORT -c CONNS (-d SECONDS | -n COUNT) [-m echo|http] [-s SIZE]
 *                    [-P DEPTH] [-W]
 *
 *   -m echo   (default) each connection sends SIZE bytes (default 64) and waits until all of
 *             them came back before sending the next message: closed-loop ping-pong.
 *   -m http   each connection sends DEPTH pipelined "GET / HTTP/1.1" requests in one write and
 *             waits for DEPTH complete responses (framed by Content-Length) before the next.
 *   -d S      measure for S seconds (fractional allowed), then stop sending and collect the
 *             replies still in flight, so every request sent is also counted as served.
 *   -n N      send exactly N messages/requests in total, then stop.
 *   -W        print "connected" once every connection is up and wait for a line on stdin
 *             before sending; after printing the result, wait for EOF on stdin before closing.
 *             The runner attaches strace in between, so connection setup and teardown stay
 *             out of the syscall count.
 *
 * Prints one JSON line: requests (all served, including the drain), window_requests and
 * seconds (the measured window), rate (window_requests / seconds), p50/p99/max latency in
 * microseconds (one sample per round trip: per message for echo, per pipelined batch for
 * HTTP, as wrk does) and errors. One thread, level-triggered epoll; the runner pins it to
 * CPU 1. Latency is read from CLOCK_MONOTONIC when a round trip completes.
 */
#include "util.h"

#include <strings.h>
#include <sys/epoll.h>

#include "histogram.h"
#include "load-options.h"

#define MAX_EVENTS 1024
#define HTTP_BUF (16 * 1024)
#define DRAIN_NS (3 * 1000000000ull)
#define STALL_NS (10 * 1000000000ull) /* no reply at all for this long: give up */

/* ---- connections ---------------------------------------------------------------------------- */

struct conn {
  int fd, live;
  uint64_t t0;     /* when the current round was sent */
  uint32_t got;    /* bytes of the current reply buffered in buf */
  uint32_t expect; /* echo: 1 while a message is out; http: responses still owed */
  uint32_t seq;
  char *buf;
};

static char *request; /* http: one request; echo: unused */
static size_t request_len;
static char *pipeline; /* http: DEPTH requests back to back */
static long long sent, done, lost, errors;
static long live;
static int stopping;

static void fail_conn(struct conn *c, const char *why) {
  if (!c->live) return;
  fprintf(stderr, "echo-load: connection %d: %s\n", c->fd, why);
  errors++;
  lost += c->expect; /* its requests in flight will never be answered */
  c->expect = 0;
  c->live = 0;
  live--;
  close(c->fd);
}

/* Echo payload: the message sequence number, then a pattern, so a reordered or corrupted echo
 * is detected. */
static void fill_echo(struct conn *c, char *p) {
  for (int i = 0; i < opt.size; i++) p[i] = (char)('a' + (c->seq + (unsigned)i) % 26);
  if (opt.size >= 4) memcpy(p, &c->seq, 4);
}

/* Sends the next round on c unless the run is over. A send of a few hundred bytes on an idle
 * loopback socket is never short; if it is, the run reports an error rather than stalling. */
static void send_round(struct conn *c, uint64_t now) {
  if (stopping || !c->live) return;
  long long k = opt.http ? opt.depth : 1;
  if (opt.count > 0) {
    if (sent >= opt.count) return;
    if (k > opt.count - sent) k = opt.count - sent;
  }
  char echo[65536];
  const char *data = pipeline;
  size_t len = request_len * (size_t)k;
  if (!opt.http) {
    fill_echo(c, echo);
    data = echo;
    len = (size_t)opt.size;
  }
  ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
  if (n != (ssize_t)len) {
    fail_conn(c, n < 0 ? strerror(errno) : "short send");
    return;
  }
  c->t0 = now;
  c->expect = (uint32_t)k;
  sent += k;
}

static void round_done(struct conn *c) {
  uint64_t now = now_ns();
  hist_add(now - c->t0);
  c->seq++;
  send_round(c, now);
}

/* HTTP: consumes complete responses from c->buf; 0, or -1 on a malformed or non-200 one. */
static int http_consume(struct conn *c) {
  while (c->got > 0 && c->expect > 0) {
    char *hend = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (hend == NULL) return c->got == HTTP_BUF ? -1 : 0;
    if (c->got < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0 || memcmp(c->buf + 8, " 200", 4) != 0) {
      return -1;
    }
    size_t hlen = (size_t)(hend - c->buf) + 4, body = 0;
    for (char *line = c->buf; line < hend;) {
      char *nl = memchr(line, '\n', (size_t)(hend + 2 - line));
      if (nl == NULL) break;
      if (nl - line > 15 && strncasecmp(line, "content-length:", 15) == 0) {
        body = (size_t)strtoul(line + 15, NULL, 10);
      }
      line = nl + 1;
    }
    if (hlen + body > HTTP_BUF) return -1;
    if (c->got < hlen + body) return 0;
    memmove(c->buf, c->buf + hlen + body, c->got - hlen - body);
    c->got -= (uint32_t)(hlen + body);
    c->expect--;
    done++;
    if (c->expect == 0) round_done(c);
  }
  return 0;
}

static void on_readable(struct conn *c) {
  size_t cap = opt.http ? HTTP_BUF : (size_t)opt.size;
  ssize_t n = recv(c->fd, c->buf + c->got, cap - c->got, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    fail_conn(c, n == 0 ? "closed by the server" : strerror(errno));
    return;
  }
  if (c->expect == 0) {
    fail_conn(c, "data nobody asked for");
    return;
  }
  c->got += (uint32_t)n;
  if (opt.http) {
    if (http_consume(c) != 0) fail_conn(c, "bad HTTP response");
    return;
  }
  if (c->got < (uint32_t)opt.size) return;
  char want[65536];
  fill_echo(c, want);
  if (memcmp(want, c->buf, (size_t)opt.size) != 0) {
    fail_conn(c, "echo differs from what was sent");
    return;
  }
  c->got = 0;
  c->expect = 0;
  done++;
  round_done(c);
}

static int connect_one(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = loopback(opt.port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  set_nodelay(fd);
  if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
  return fd;
}

/* HTTP: the request, and DEPTH copies of it back to back (what one round sends). */
static void build_requests(void) {
  char req[256];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", BENCH_HOST, opt.port);
  request_len = (size_t)n;
  request = strdup(req);
  pipeline = malloc(request_len * (size_t)opt.depth);
  if (request == NULL || pipeline == NULL) die("malloc");
  for (int i = 0; i < opt.depth; i++) memcpy(pipeline + request_len * (size_t)i, request, request_len);
}

/* Connects every connection and registers it for EPOLLIN in epfd (once: level-triggered). */
static struct conn *open_conns(int epfd) {
  struct conn *conns = calloc((size_t)opt.conns, sizeof *conns);
  if (conns == NULL) die("setup");
  for (long i = 0; i < opt.conns; i++) {
    struct conn *c = &conns[i];
    c->fd = connect_one();
    c->live = 1;
    live++;
    c->buf = malloc(opt.http ? HTTP_BUF : (size_t)opt.size);
    if (c->buf == NULL) die("malloc");
    struct epoll_event ev = {.events = EPOLLIN, .data = {.ptr = c}};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
  }
  return conns;
}

/* The measured window: when it started and ended, and the replies answered by its end. */
struct window {
  uint64_t start, end;
  long long done;
};

/* Sends the first round on every connection, then runs until every reply sent for is in and
 * the run is over (-n reached, -d's deadline passed, or every connection failed), the drain
 * after the deadline ends, or no reply came for STALL_NS. */
static struct window run(struct conn *conns, int epfd) {
  struct window w = {.start = now_ns(), .end = 0, .done = 0};
  uint64_t deadline = w.start + (uint64_t)(opt.seconds * 1e9), last = w.start;
  uint64_t drain_until = 0, progress_at = w.start;
  long long last_done = 0;
  for (long i = 0; i < opt.conns; i++) send_round(&conns[i], w.start);
  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    long long in_flight = sent - done - lost;
    if (in_flight == 0 && (stopping || (opt.count > 0 && sent >= opt.count) || live == 0)) break;
    int n = epoll_wait(epfd, evs, MAX_EVENTS, 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) on_readable(evs[i].data.ptr);
    uint64_t now = last = now_ns();
    if (done != last_done) {
      last_done = done;
      progress_at = now;
    }
    if (opt.seconds > 0 && !stopping && now >= deadline) {
      stopping = 1; /* stop sending; collect what is in flight */
      w.end = now;
      w.done = done;
      drain_until = now + DRAIN_NS;
    }
    if ((stopping && now >= drain_until) || now - progress_at >= STALL_NS) {
      fprintf(stderr, "echo-load: %lld replies never came\n", sent - done - lost);
      errors += sent - done - lost;
      break;
    }
  }
  if (w.end == 0) { /* no deadline (-n), or it never came: the window is the whole run */
    w.end = last;
    w.done = done;
  }
  return w;
}

static void print_result(const struct window *w) {
  double secs = (double)(w->end - w->start) / 1e9;
  printf("{\"mode\":\"%s\",\"connections\":%ld,\"depth\":%d,\"size\":%d,\"requests\":%lld,"
         "\"window_requests\":%lld,\"seconds\":%.6f,\"rate\":%.1f,\"p50_us\":%.2f,"
         "\"p99_us\":%.2f,\"max_us\":%.2f,\"errors\":%lld}\n",
         opt.http ? "http" : "echo", opt.conns, opt.depth, opt.size, done, w->done, secs,
         secs > 0 ? (double)w->done / secs : 0.0, hist_pct(50), hist_pct(99),
         (double)hist_max / 1000.0, errors);
  fflush(stdout);
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  raise_nofile();
  if (opt.http) build_requests();
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("setup");
  struct conn *conns = open_conns(epfd);
  if (opt.wait) {
    char line[64];
    printf("connected\n");
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
  }
  struct window w = run(conns, epfd);
  print_result(&w);
  if (opt.wait) {
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
    }
  }
  for (long i = 0; i < opt.conns; i++) {
    if (conns[i].live) close(conns[i].fd);
  }
  return 0;
}
