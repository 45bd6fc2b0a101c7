/* What tls.c (contexts, listeners) and tls-conn.c (connections) share. */
#ifndef WL_TLS_INTERNAL_H
#define WL_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WL__TLS_MAX_SNI 16

/* One context id: its certificates, limits and counters. Held by its id, by each listener
 * marked with it and by each connection accepted from one (refs); freed by the last. */
struct wl__tls_ctx {
  pthread_mutex_t lock; /* guards ssl_ctx and sni: a swap races other threads' accepts */
  SSL_CTX *ssl_ctx;     /* the default certificate */
  SSL_CTX *sni[WL__TLS_MAX_SNI];
  int n_sni;
  atomic_int refs;
  int timeout_ms, max_handshakes;
  _Atomic uint64_t handshakes, failures, timeouts, refused;
};

void wl__tls_ctx_unref(struct wl__tls_ctx *x);
/* Listener fd's context with a reference taken, or NULL (not TLS). */
struct wl__tls_ctx *wl__tls_listener_ctx(int fd);
/* A new SSL on x's current default certificate, or NULL. */
SSL *wl__tls_ctx_ssl(struct wl__tls_ctx *x);
/* Drops listener fd's mark, if any (before close(2)). */
void wl__tls_forget_listener(int fd);

/* A socket BIO on fd whose writes use send(2) with MSG_NOSIGNAL (tls-bio.c): a peer's reset
 * is EPIPE for that connection, never a SIGPIPE for the process, whatever its disposition. */
BIO *wl__tls_bio(int fd);

/* ---- connections (tls-conn.c) and their events (tls-events.c) ---------------------------- */

struct wl__link {
  struct wl__link *prev, *next; /* both NULL when on no list */
};

struct wl__tls_conn {
  struct wl__link pending; /* first: a pending link is its connection */
  struct wl__link shaking;
  struct wl__link writing; /* on wl__writing while EPOLLOUT is added for OpenSSL's sake */
  SSL *ssl;
  struct wl__tls_ctx *ctx;
  uint64_t owner; /* the thread whose lists hold the links */
  uint64_t data;  /* the guest's epoll token */
  int64_t deadline_ms;
  uint32_t events; /* the guest's interest */
  int fd, epfd;
  int dead; /* 0, or the errno every call now returns (a failed or expired handshake) */
  bool handshaking;
};

/* Per thread: connections with input buffered in their SSL, handshakes by deadline, and
 * connections whose SSL_read wants the socket writable. */
extern _Thread_local struct wl__link wl__pending, wl__shaking, wl__writing;

#define WL__CONN_OF(link, field) \
  ((struct wl__tls_conn *)((char *)(link) - offsetof(struct wl__tls_conn, field)))

/* fd's connection, or NULL (not TLS). */
struct wl__tls_conn *wl__conn(int fd);
/* This thread's number (1, 2, ...), its lists set up on first use. */
uint64_t wl__self(void);
int64_t wl__ms(void);
void wl__shaking_end(struct wl__tls_conn *c, _Atomic uint64_t *counter);

static inline void wl__unlink(struct wl__link *l) {
  if (l->next == NULL) return;
  l->prev->next = l->next;
  l->next->prev = l->prev;
  l->prev = l->next = NULL;
}
static inline void wl__link_after(struct wl__link *at, struct wl__link *l) {
  l->prev = at;
  l->next = at->next;
  at->next->prev = l;
  at->next = l;
}

/* After an SSL_read on c: want_write adds EPOLLOUT to the kernel's interest in c's fd (the
 * handshake or a key update must write and the socket is full), false takes it away again. */
void wl__tls_want_write(struct wl__tls_conn *c, bool want_write);

#endif
