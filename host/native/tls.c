/*
 * TLS contexts and listeners (tls.h): certificates and keys are parsed here from PEM the host
 * passes in, and live only in OpenSSL's memory in this process; nothing of them is ever
 * written into a guest's memory. tls-conn.c holds the connections.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errno.h"
#include "tls-internal.h"

_Atomic bool wl__tls_on = false;

static pthread_mutex_t wl__ctx_lock = PTHREAD_MUTEX_INITIALIZER; /* guards wl__ctxs */
static struct wl__tls_ctx *wl__ctxs[WL__TLS_MAX_CTX];
static _Atomic(struct wl__tls_ctx *) wl__listeners[WL__TLS_MAX_FD];

static const unsigned char WL__ALPN[] = "\x08http/1.1";

/* ALPN: http/1.1 if the client offers it; otherwise the handshake goes on without ALPN. */
static int wl__tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                        const unsigned char *in, unsigned int in_len, void *arg) {
  (void)ssl, (void)arg;
  unsigned char *sel;
  if (SSL_select_next_proto(&sel, out_len, WL__ALPN, sizeof WL__ALPN - 1, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

/* SNI: the first added certificate whose names match; an unknown name keeps the default. */
static int wl__tls_sni(SSL *ssl, int *alert, void *arg) {
  (void)alert;
  struct wl__tls_ctx *x = arg;
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == NULL) return SSL_TLSEXT_ERR_OK;
  pthread_mutex_lock(&x->lock);
  for (int i = 0; i < x->n_sni; i++) {
    X509 *cert = SSL_CTX_get0_certificate(x->sni[i]);
    if (cert != NULL && X509_check_host(cert, name, 0, 0, NULL) == 1) {
      SSL_set_SSL_CTX(ssl, x->sni[i]);
      break;
    }
  }
  pthread_mutex_unlock(&x->lock);
  return SSL_TLSEXT_ERR_OK;
}

static int wl__tls_fail(char err[WL__TLS_ERR_MAX], int code, const char *what) {
  char detail[160] = "";
  unsigned long e = ERR_get_error();
  if (e != 0) ERR_error_string_n(e, detail, sizeof detail);
  snprintf(err, WL__TLS_ERR_MAX, "%s%s%s", what, e != 0 ? ": " : "", detail);
  ERR_clear_error();
  return code;
}

/* The leaf certificate and any chain after it, then the key, checked to be a pair. */
static int wl__tls_load(SSL_CTX *ctx, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, char err[WL__TLS_ERR_MAX]) {
  BIO *bio = BIO_new_mem_buf(cert, (int)cert_len);
  X509 *leaf = bio ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : NULL;
  int ok = leaf != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  for (X509 *extra; ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) X509_free(extra), ok = 0;
  }
  BIO_free(bio);
  ERR_clear_error(); /* the chain loop ends on "no start line" */
  if (!ok) return wl__tls_fail(err, -WL__WASI_EINVAL, "the certificate is not readable PEM");
  bio = BIO_new_mem_buf(key, (int)key_len);
  EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (pkey == NULL) return wl__tls_fail(err, -WL__WASI_EINVAL, "the key is not readable PEM");
  ok = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(pkey);
  if (!ok)
    return wl__tls_fail(err, -WL__WASI_EINVAL, "the key does not match the certificate");
  return 0;
}

/* -ERANGE when the leaf certificate is expired or not valid yet. */
static int wl__tls_check_dates(SSL_CTX *ctx, char err[WL__TLS_ERR_MAX]) {
  X509 *leaf = SSL_CTX_get0_certificate(ctx);
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
    return wl__tls_fail(err, -WL__WASI_ERANGE, "the certificate has expired");
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
    return wl__tls_fail(err, -WL__WASI_ERANGE, "the certificate is not valid yet");
  return 0;
}

/* An SSL_CTX for x: TLS 1.2 and 1.3 only, OpenSSL's default ciphers, tickets on (the
 * default), no renegotiation, a peer's missing close_notify read as EOF. */
static SSL_CTX *wl__tls_new(struct wl__tls_ctx *x, const char *cert, size_t cert_len,
                            const char *key, size_t key_len, char err[WL__TLS_ERR_MAX],
                            int *code) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL) return *code = wl__tls_fail(err, -WL__WASI_ENOMEM, "out of memory"), NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx, 1); /* a record in one recv(2), not its header and then its body */
  SSL_CTX_set_alpn_select_cb(ctx, wl__tls_alpn, NULL);
  SSL_CTX_set_tlsext_servername_callback(ctx, wl__tls_sni);
  SSL_CTX_set_tlsext_servername_arg(ctx, x);
  *code = wl__tls_load(ctx, cert, cert_len, key, key_len, err);
  if (*code == 0) *code = wl__tls_check_dates(ctx, err);
  if (*code == 0) return ctx;
  SSL_CTX_free(ctx);
  return NULL;
}

static struct wl__tls_ctx *wl__tls_get(int id) {
  if (id < 0 || id >= WL__TLS_MAX_CTX) return NULL;
  pthread_mutex_lock(&wl__ctx_lock);
  struct wl__tls_ctx *x = wl__ctxs[id];
  pthread_mutex_unlock(&wl__ctx_lock);
  return x;
}

void wl__tls_ctx_unref(struct wl__tls_ctx *x) {
  if (atomic_fetch_sub(&x->refs, 1) != 1) return;
  SSL_CTX_free(x->ssl_ctx);
  for (int i = 0; i < x->n_sni; i++) SSL_CTX_free(x->sni[i]);
  pthread_mutex_destroy(&x->lock);
  free(x);
}

/* Stores x in a free id: the id, or -ENFILE. */
static int wl__tls_register(struct wl__tls_ctx *x) {
  int id = -WL__WASI_ENFILE;
  pthread_mutex_lock(&wl__ctx_lock);
  for (int i = 0; i < WL__TLS_MAX_CTX && id < 0; i++) {
    if (wl__ctxs[i] == NULL) wl__ctxs[i] = x, id = i;
  }
  pthread_mutex_unlock(&wl__ctx_lock);
  return id;
}

int wl__tls_context(const char *cert, size_t cert_len, const char *key, size_t key_len,
                    char err[WL__TLS_ERR_MAX]) {
  struct wl__tls_ctx *x = calloc(1, sizeof *x);
  if (x == NULL) return wl__tls_fail(err, -WL__WASI_ENOMEM, "out of memory");
  int code;
  x->ssl_ctx = wl__tls_new(x, cert, cert_len, key, key_len, err, &code);
  if (x->ssl_ctx == NULL) return free(x), code;
  pthread_mutex_init(&x->lock, NULL);
  atomic_init(&x->refs, 1);
  x->timeout_ms = 10000;
  x->max_handshakes = 1024;
  int id = wl__tls_register(x);
  if (id < 0) {
    wl__tls_ctx_unref(x);
    return wl__tls_fail(err, id, "too many TLS contexts");
  }
  atomic_store(&wl__tls_on, true);
  return id;
}

/* Loads a second SSL_CTX for x (swap or SNI): it, or NULL with *code and err set. */
static SSL_CTX *wl__tls_extra(int id, struct wl__tls_ctx **x, const char *cert,
                              size_t cert_len, const char *key, size_t key_len,
                              char err[WL__TLS_ERR_MAX], int *code) {
  *x = wl__tls_get(id);
  if (*x == NULL) return *code = wl__tls_fail(err, -WL__WASI_EBADF, "no such TLS context"), NULL;
  return wl__tls_new(*x, cert, cert_len, key, key_len, err, code);
}

int wl__tls_context_swap(int id, const char *cert, size_t cert_len, const char *key,
                         size_t key_len, char err[WL__TLS_ERR_MAX]) {
  struct wl__tls_ctx *x;
  int code;
  SSL_CTX *next = wl__tls_extra(id, &x, cert, cert_len, key, key_len, err, &code);
  if (next == NULL) return code;
  /* The ticket keys carry over, so clients resume sessions across the swap. */
  unsigned char keys[80];
  pthread_mutex_lock(&x->lock);
  if (SSL_CTX_get_tlsext_ticket_keys(x->ssl_ctx, keys, sizeof keys) == 1)
    SSL_CTX_set_tlsext_ticket_keys(next, keys, sizeof keys);
  SSL_CTX *old = x->ssl_ctx;
  x->ssl_ctx = next;
  pthread_mutex_unlock(&x->lock);
  SSL_CTX_free(old); /* connections made on it hold their own reference */
  return 0;
}

int wl__tls_context_add(int id, int slot, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, char err[WL__TLS_ERR_MAX]) {
  struct wl__tls_ctx *x;
  int code;
  SSL_CTX *extra = wl__tls_extra(id, &x, cert, cert_len, key, key_len, err, &code);
  if (extra == NULL) return code;
  pthread_mutex_lock(&x->lock);
  bool append = slot < 0;
  if (append && x->n_sni < WL__TLS_MAX_SNI) slot = x->n_sni++;
  bool fits = slot >= 0 && slot < x->n_sni;
  SSL_CTX *old = fits ? x->sni[slot] : extra; /* NULL for a new slot */
  if (fits) x->sni[slot] = extra;
  pthread_mutex_unlock(&x->lock);
  SSL_CTX_free(old); /* a handshake that picked it holds its own reference */
  if (fits) return 0;
  return append ? wl__tls_fail(err, -WL__WASI_ENFILE, "too many SNI certificates for one listener")
                : wl__tls_fail(err, -WL__WASI_EBADF, "no such SNI certificate");
}

int wl__tls_context_limits(int id, int timeout_ms, int max_handshakes) {
  struct wl__tls_ctx *x = wl__tls_get(id);
  if (x == NULL) return -WL__WASI_EBADF;
  x->timeout_ms = timeout_ms;
  x->max_handshakes = max_handshakes;
  return 0;
}

int wl__tls_context_free(int id) {
  if (id < 0 || id >= WL__TLS_MAX_CTX) return -WL__WASI_EBADF;
  pthread_mutex_lock(&wl__ctx_lock);
  struct wl__tls_ctx *x = wl__ctxs[id];
  wl__ctxs[id] = NULL;
  pthread_mutex_unlock(&wl__ctx_lock);
  if (x == NULL) return -WL__WASI_EBADF;
  wl__tls_ctx_unref(x);
  return 0;
}

int wl__tls_context_stats(int id, double out[4]) {
  struct wl__tls_ctx *x = wl__tls_get(id);
  if (x == NULL) return -WL__WASI_EBADF;
  out[0] = (double)atomic_load(&x->handshakes);
  out[1] = (double)atomic_load(&x->failures);
  out[2] = (double)atomic_load(&x->timeouts);
  out[3] = (double)atomic_load(&x->refused);
  return 0;
}

int wl__tls_listener(int fd, int id) {
  if (fd < 0 || fd >= WL__TLS_MAX_FD) return -WL__WASI_EBADF;
  struct wl__tls_ctx *x = NULL;
  if (id >= 0 && (x = wl__tls_get(id)) == NULL) return -WL__WASI_EBADF;
  if (x != NULL) atomic_fetch_add(&x->refs, 1);
  struct wl__tls_ctx *old = atomic_exchange(&wl__listeners[fd], x);
  if (old != NULL) wl__tls_ctx_unref(old);
  return 0;
}

int wl__tls_listener_id(int fd) {
  struct wl__tls_ctx *x = NULL;
  if (fd >= 0 && fd < WL__TLS_MAX_FD) x = atomic_load(&wl__listeners[fd]);
  if (x == NULL) return -1;
  pthread_mutex_lock(&wl__ctx_lock);
  int id = -1;
  for (int i = 0; i < WL__TLS_MAX_CTX && id < 0; i++) {
    if (wl__ctxs[i] == x) id = i;
  }
  pthread_mutex_unlock(&wl__ctx_lock);
  return id;
}

struct wl__tls_ctx *wl__tls_listener_ctx(int fd) {
  if (fd < 0 || fd >= WL__TLS_MAX_FD) return NULL;
  struct wl__tls_ctx *x = atomic_load_explicit(&wl__listeners[fd], memory_order_acquire);
  if (x != NULL) atomic_fetch_add(&x->refs, 1);
  return x;
}

/* Frees fd's mark as a listener, if it has one (before close(2)). */
void wl__tls_forget_listener(int fd) {
  if (fd < 0 || fd >= WL__TLS_MAX_FD) return;
  if (atomic_load_explicit(&wl__listeners[fd], memory_order_relaxed) == NULL) return;
  struct wl__tls_ctx *old = atomic_exchange(&wl__listeners[fd], NULL);
  if (old != NULL) wl__tls_ctx_unref(old);
}

SSL *wl__tls_ctx_ssl(struct wl__tls_ctx *x) {
  pthread_mutex_lock(&x->lock);
  SSL *ssl = SSL_new(x->ssl_ctx);
  pthread_mutex_unlock(&x->lock);
  return ssl;
}
