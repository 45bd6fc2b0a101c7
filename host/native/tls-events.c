/*
 * TLS connections and epoll (tls.h; docs/DESIGN.md, "TLS"): what a TLS connection owes its
 * guest that the socket alone does not report.
 *  - Plaintext (or read-ahead bytes) already inside its SSL: announced as EPOLLIN, and
 *    epoll_wait does not sleep while some waits for a guest that asked to read.
 *  - A handshake or key update inside SSL_read that must write to a full socket
 *    (SSL_ERROR_WANT_WRITE): the guest only waits to read, so EPOLLOUT is added to the kernel's
 *    interest while that lasts, and its EPOLLOUT is handed to the guest as EPOLLIN (the guest
 *    then calls recv, which resumes the handshake). Taken away at the first recv that does not
 *    want to write: a level-triggered EPOLLOUT left on would wake the loop for nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "errno.h"
#include "tls-internal.h"
#include "tls.h"

/* The interest the kernel should have in c: the guest's, plus EPOLLOUT while OpenSSL needs. */
static uint32_t wl__kernel_events(const struct wl__tls_conn *c) {
  return c->events | (c->writing.next != NULL ? (uint32_t)EPOLLOUT : 0);
}

uint32_t wl__tls_watch(int epfd, int op, int fd, uint32_t events, uint64_t data) {
  struct wl__tls_conn *c = wl__conn(fd);
  if (c == NULL) return events;
  c->epfd = op == EPOLL_CTL_DEL ? -1 : epfd;
  c->events = events;
  c->data = data;
  if (op == EPOLL_CTL_DEL && c->owner == wl__self()) wl__unlink(&c->writing);
  return wl__kernel_events(c);
}

void wl__tls_want_write(struct wl__tls_conn *c, bool want_write) {
  if (c->owner != wl__self() || c->epfd < 0) return; /* unwatched: the guest is not waiting */
  if (want_write == (c->writing.next != NULL)) return;
  if (want_write) wl__link_after(&wl__writing, &c->writing);
  else wl__unlink(&c->writing);
  if ((c->events & EPOLLOUT) != 0) return; /* the guest's own interest already has it */
  struct epoll_event ev = {.events = wl__kernel_events(c), .data = {.u64 = c->data}};
  epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev); /* fails only if the guest closed epfd */
}

/* True when c has plaintext for epfd's guest, which asked to read. */
static bool wl__tls_ready(const struct wl__tls_conn *c, int epfd) {
  return c->epfd == epfd && (c->events & EPOLLIN) != 0;
}

int wl__tls_wait_bound(int epfd, int timeout_ms) {
  wl__self();
  int64_t now = wl__ms();
  while (wl__shaking.next != &wl__shaking) {
    struct wl__tls_conn *c = WL__CONN_OF(wl__shaking.next, shaking);
    if (c->deadline_ms > now) {
      int64_t left = c->deadline_ms - now;
      if (timeout_ms < 0 || left < timeout_ms) timeout_ms = (int)left;
      break;
    }
    /* Expired: shut down, so the guest hears of it (EPOLLHUP) and closes it. */
    c->dead = WL__WASI_ETIMEDOUT;
    wl__shaking_end(c, &c->ctx->timeouts);
    shutdown(c->fd, SHUT_RDWR);
  }
  for (struct wl__link *l = wl__pending.next; l != &wl__pending; l = l->next) {
    if (wl__tls_ready(WL__CONN_OF(l, pending), epfd)) return 0;
  }
  return timeout_ms;
}

static uint64_t wl__load_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static void wl__store_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The index of the record of n carrying data, or n. */
static int wl__record_of(const unsigned char *recs, int n, uint64_t data) {
  int i = 0;
  while (i < n && wl__load_le(recs + i * 12 + 4, 8) != data) i++;
  return i;
}

/* An EPOLLOUT the guest did not ask for becomes the EPOLLIN its recv waits for. */
static void wl__hand_over_writable(int epfd, unsigned char *recs, int n) {
  for (struct wl__link *l = wl__writing.next; l != NULL && l != &wl__writing; l = l->next) {
    struct wl__tls_conn *c = WL__CONN_OF(l, writing);
    int i = c->epfd == epfd ? wl__record_of(recs, n, c->data) : n;
    if (i == n) continue;
    uint32_t events = (uint32_t)wl__load_le(recs + i * 12, 4);
    if ((events & EPOLLOUT) == 0) continue;
    if ((c->events & EPOLLOUT) == 0) events &= ~(uint32_t)EPOLLOUT;
    wl__store_le(recs + i * 12, events | (c->events & EPOLLIN), 4);
  }
}

int wl__tls_inject(int epfd, void *out, int n, int max_events) {
  unsigned char *recs = out;
  if (wl__writing.next != NULL && wl__writing.next != &wl__writing)
    wl__hand_over_writable(epfd, recs, n);
  for (struct wl__link *l = wl__pending.next; l != NULL && l != &wl__pending; l = l->next) {
    struct wl__tls_conn *c = WL__CONN_OF(l, pending);
    if (!wl__tls_ready(c, epfd)) continue;
    int i = wl__record_of(recs, n, c->data);
    if (i == n && n == max_events) break; /* the ring is full: next time (the wait is 0) */
    unsigned char *rec = recs + i * 12;
    uint32_t events = i < n ? (uint32_t)wl__load_le(rec, 4) : 0;
    wl__store_le(rec, events | EPOLLIN, 4);
    wl__store_le(rec + 4, c->data, 8);
    if (i == n) n++;
  }
  return n;
}
