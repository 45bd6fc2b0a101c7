/*
 * TLS connections (tls.h; docs/DESIGN.md, "TLS"): an SSL per accepted fd, driven by the guest's
 * own recv/send; the handshake runs inside its first recvs (WANT_READ/WANT_WRITE: -EAGAIN).
 * Per thread: the handshakes in flight by deadline (one past it is shut down, so the kernel
 * reports it), and the connections holding plaintext not yet read (announced as EPOLLIN by
 * tls-events.c, which also owns the guest's epoll interest in each connection).
 */
#include <errno.h>
#include <openssl/err.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "errno.h"
#include "tls-internal.h"
#include "tls.h"

static _Atomic(struct wl__tls_conn *) wl__conns[WL__TLS_MAX_FD];
static _Atomic uint64_t wl__threads;
static _Thread_local uint64_t wl__thread;
_Thread_local struct wl__link wl__pending, wl__shaking, wl__writing;
static _Thread_local int wl__in_flight;

uint64_t wl__self(void) {
  if (wl__thread == 0) {
    wl__thread = atomic_fetch_add(&wl__threads, 1) + 1;
    wl__pending.prev = wl__pending.next = &wl__pending;
    wl__shaking.prev = wl__shaking.next = &wl__shaking;
    wl__writing.prev = wl__writing.next = &wl__writing;
  }
  return wl__thread;
}

int64_t wl__ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct wl__tls_conn *wl__conn(int fd) {
  if (fd < 0 || fd >= WL__TLS_MAX_FD) return NULL;
  return atomic_load_explicit(&wl__conns[fd], memory_order_relaxed);
}
bool wl__tls_is(int fd) { return wl__conn(fd) != NULL; }

/* Into the deadline-ordered handshake list (from its end: deadlines mostly come in order). */
static void wl__shaking_add(struct wl__tls_conn *c) {
  struct wl__link *at = wl__shaking.prev;
  while (at != &wl__shaking && WL__CONN_OF(at, shaking)->deadline_ms > c->deadline_ms)
    at = at->prev;
  wl__link_after(at, &c->shaking);
  c->handshaking = true;
  wl__in_flight++;
}

/* The handshake is over (done, failed or expired): counted, and off the list. */
void wl__shaking_end(struct wl__tls_conn *c, _Atomic uint64_t *counter) {
  if (!c->handshaking) return;
  c->handshaking = false;
  if (counter != NULL) atomic_fetch_add(counter, 1);
  if (c->owner != wl__self()) return; /* its thread is gone, and its lists with it */
  wl__unlink(&c->shaking);
  wl__in_flight--;
}

int wl__tls_accepted(int listener, int conn) {
  struct wl__tls_ctx *x = wl__tls_listener_ctx(listener);
  if (x == NULL) return 0;
  wl__self();
  struct wl__tls_conn *c = NULL;
  BIO *bio = NULL;
  if (conn >= WL__TLS_MAX_FD || wl__in_flight >= x->max_handshakes) {
    atomic_fetch_add(&x->refused, 1);
  } else if ((c = calloc(1, sizeof *c)) != NULL && (c->ssl = wl__tls_ctx_ssl(x)) != NULL &&
             (bio = wl__tls_bio(conn)) != NULL) {
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_accept_state(c->ssl);
    *c = (struct wl__tls_conn){.ssl = c->ssl, .ctx = x, .owner = wl__thread, .fd = conn,
                               .epfd = -1, .deadline_ms = wl__ms() + x->timeout_ms};
    wl__shaking_add(c);
    atomic_store_explicit(&wl__conns[conn], c, memory_order_relaxed);
    return 0;
  }
  if (c != NULL) SSL_free(c->ssl), free(c);
  wl__tls_ctx_unref(x);
  return ERR_clear_error(), -WL__WASI_ECONNABORTED;
}

/* Records whether input waits in c's SSL, which no socket event will announce: plaintext, or
 * read-ahead bytes when the guest's buffer filled (with room left, SSL_read stopped at
 * WANT_READ: a partial record, whose rest the socket announces). */
static void wl__mark_pending(struct wl__tls_conn *c, bool filled) {
  bool pending =
      c->dead == 0 && (SSL_pending(c->ssl) > 0 || (filled && SSL_has_pending(c->ssl)));
  if (!pending) wl__unlink(&c->pending);
  else if (c->pending.next == NULL) wl__link_after(&wl__pending, &c->pending);
}

/* A failed SSL_read/SSL_write as a result: -EAGAIN, 0 (EOF) or a negative errno. */
static int wl__tls_result(struct wl__tls_conn *c, int n) {
  int saved = errno;
  switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return -WL__WASI_EAGAIN;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF without it (IGNORE_UNEXPECTED_EOF) */
      wl__shaking_end(c, &c->ctx->failures);
      return 0;
    case SSL_ERROR_SYSCALL:
      c->dead = saved != 0 ? wl__wasi_errno(saved) : WL__WASI_ECONNRESET;
      break;
    default: /* a protocol error: garbage, a bad record, no cipher in common */
      c->dead = WL__WASI_EPROTO;
  }
  wl__shaking_end(c, &c->ctx->failures);
  ERR_clear_error();
  return -c->dead;
}

/* Before each call: a handshake past its deadline fails with -ETIMEDOUT. */
static bool wl__tls_usable(struct wl__tls_conn *c) {
  if (c->dead == 0 && c->handshaking && wl__ms() >= c->deadline_ms) {
    c->dead = WL__WASI_ETIMEDOUT;
    wl__shaking_end(c, &c->ctx->timeouts);
  }
  return c->dead == 0;
}

static void wl__tls_progress(struct wl__tls_conn *c) {
  if (c->handshaking && SSL_is_init_finished(c->ssl)) wl__shaking_end(c, &c->ctx->handshakes);
}

int wl__tls_recv(int fd, void *buf, uint32_t len) {
  struct wl__tls_conn *c = wl__conn(fd);
  if (!wl__tls_usable(c)) return -c->dead;
  int cap = len > INT32_MAX ? INT32_MAX : (int)len;
  ERR_clear_error();
  errno = 0;
  int n = SSL_read(c->ssl, buf, cap);
  wl__tls_progress(c);
  if (n <= 0) {
    n = wl__tls_result(c, n);
  } else {
    /* Fill the buffer from what is already read (no syscall): less left pending. */
    for (int more; n < cap && SSL_has_pending(c->ssl); n += more) {
      more = SSL_read(c->ssl, (char *)buf + n, cap - n);
      if (more <= 0) break;
    }
  }
  wl__mark_pending(c, n == cap);
  /* A handshake or key update that must write to a full socket: the guest waits to read, so
   * the socket's writability has to wake it (tls-events.c); only while that lasts. */
  bool want_write = n == -WL__WASI_EAGAIN && SSL_want_write(c->ssl);
  if (want_write || c->writing.next != NULL) wl__tls_want_write(c, want_write);
  ERR_clear_error();
  return n;
}

int wl__tls_send(int fd, const void *buf, uint32_t len) {
  struct wl__tls_conn *c = wl__conn(fd);
  if (!wl__tls_usable(c)) return -c->dead;
  ERR_clear_error();
  errno = 0;
  int n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
  wl__tls_progress(c);
  if (n > 0) return n;
  int r = wl__tls_result(c, n);
  return r == 0 ? -WL__WASI_EPIPE : r; /* the peer's close_notify: nothing more can be sent */
}

int wl__tls_shutdown(int fd, int how) {
  struct wl__tls_conn *c = wl__conn(fd);
  /* Our close_notify before the FIN, once the session is up and healthy (never after a fatal
   * error: OpenSSL forbids it). A full socket buffer drops it: the FIN still ends the stream. */
  if (how != SHUT_RD && c->dead == 0 && !c->handshaking && SSL_is_init_finished(c->ssl)) {
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
  }
  return shutdown(fd, how) == 0 ? 0 : -wl__wasi_errno(errno);
}

void wl__tls_forget(int fd) {
  if (fd < 0 || fd >= WL__TLS_MAX_FD) return;
  wl__tls_forget_listener(fd);
  if (atomic_load_explicit(&wl__conns[fd], memory_order_relaxed) == NULL) return;
  struct wl__tls_conn *c = atomic_exchange(&wl__conns[fd], NULL);
  if (c == NULL) return;
  wl__shaking_end(c, NULL); /* a handshake the guest gave up on is not a failure of the peer */
  if (c->owner == wl__self()) wl__unlink(&c->pending), wl__unlink(&c->writing);
  SSL_free(c->ssl);
  wl__tls_ctx_unref(c->ctx);
  free(c);
}

static void wl__copy(char out[256], const void *src, size_t len) {
  len = len > 255 ? 255 : len;
  if (src != NULL) memcpy(out, src, len);
  out[src != NULL ? len : 0] = '\0';
}

int wl__tls_info(int fd, char alpn[256], char sni[256]) {
  struct wl__tls_conn *c = wl__conn(fd);
  if (c == NULL) return 0;
  const unsigned char *proto = NULL;
  unsigned int proto_len = 0;
  SSL_get0_alpn_selected(c->ssl, &proto, &proto_len);
  wl__copy(alpn, proto, proto_len);
  const char *name = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
  wl__copy(sni, name, name != NULL ? strlen(name) : 0);
  return 1;
}
