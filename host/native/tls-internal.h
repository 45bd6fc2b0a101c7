/* What tls.c (contexts, listeners) and tls-conn.c (connections) share. */
#ifndef WL_TLS_INTERNAL_H
#define WL_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#endif
