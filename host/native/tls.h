/*
 * TLS in the shim (docs/DESIGN.md "TLS"): contexts made from PEM held in host memory only,
 * listeners marked with one, and an OpenSSL SSL per accepted connection, found by its fd.
 *
 * Process-wide state, on purpose: an fd is process-wide too, and a worker thread's
 * connections are closed by the pool's thread when the worker dies. Each table is indexed by
 * fd (bounded: fds at or above WL__TLS_MAX_FD cannot be TLS) and read with relaxed atomics:
 * an entry is set by the thread that accepted the fd and cleared before the fd is closed, so
 * a reused fd number never finds a stale entry. Per-thread state (the connections with
 * buffered plaintext, the handshakes in flight) is _Thread_local: a connection is only ever
 * served by the thread whose epoll instance watches it.
 *
 * wl__tls_active() is false until the first context is made: the plaintext path (recv, send,
 * the batches, epoll_wait) pays one predictable branch on it and nothing else.
 */
#ifndef WL_TLS_H
#define WL_TLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WL__TLS_MAX_FD (1 << 18)
#define WL__TLS_MAX_CTX 1024
#define WL__TLS_ERR_MAX 256

extern _Atomic bool wl__tls_on;
/* The one branch the plaintext path pays: has this process made any TLS context? */
#define wl__tls_active() atomic_load_explicit(&wl__tls_on, memory_order_relaxed)

/* A context from PEM cert (chain) and key: its id (>= 0), or a negative WASI errno with a
 * one-line reason in err (-EINVAL: unreadable PEM or key does not match; -ERANGE: the
 * certificate is expired or not yet valid). */
int wl__tls_context(const char *cert, size_t cert_len, const char *key, size_t key_len,
                    char err[WL__TLS_ERR_MAX]);
/* Replaces id's certificate and key for connections accepted from now on (same errors). */
int wl__tls_context_swap(int id, const char *cert, size_t cert_len, const char *key,
                         size_t key_len, char err[WL__TLS_ERR_MAX]);
/* Adds (slot -1) a certificate chosen when a client's SNI name matches one of its names, or
 * replaces the one added slot-th (from 0) for handshakes from now on. */
int wl__tls_context_add(int id, int slot, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, char err[WL__TLS_ERR_MAX]);
/* Handshake timeout (ms) and cap on handshakes in flight per thread for id's connections. */
int wl__tls_context_limits(int id, int timeout_ms, int max_handshakes);
/* Drops the caller's hold on id (listeners and connections keep theirs). */
int wl__tls_context_free(int id);
/* Counters of id: out = {handshakes, failures, timeouts, refused}. */
int wl__tls_context_stats(int id, double out[4]);

/* Marks listener fd as serving TLS with context id (-1: plaintext again). */
int wl__tls_listener(int fd, int id);
/* The context id of listener fd, or -1. */
int wl__tls_listener_id(int fd);

/* Called by wl__accept for a new connection: 0, or a negative errno (conn is then closed). */
int wl__tls_accepted(int listener, int conn);
/* true when fd carries TLS (then recv/send/shutdown go through the functions below). */
bool wl__tls_is(int fd);
int wl__tls_recv(int fd, void *buf, uint32_t len);
int wl__tls_send(int fd, const void *buf, uint32_t len);
int wl__tls_shutdown(int fd, int how);
/* Frees fd's TLS state, if any (listener or connection); before close(2). */
void wl__tls_forget(int fd);
/* What the guest may learn: 1 if TLS, with ALPN and SNI copied into the given buffers. */
int wl__tls_info(int fd, char alpn[256], char sni[256]);

/* epoll_ctl on fd: remembered so buffered plaintext can be reported as EPOLLIN. Returns the
 * events the kernel is to watch: the guest's, plus EPOLLOUT while a handshake must write. */
uint32_t wl__tls_watch(int epfd, int op, int fd, uint32_t events, uint64_t data);
/* The timeout epoll_wait may block for: 0 with plaintext buffered, at most until the next
 * handshake deadline; handshakes past theirs are ended here (shutdown: the kernel reports them). */
int wl__tls_wait_bound(int epfd, int timeout_ms);
/* Adds EPOLLIN to out's n records for buffered plaintext (appending records up to max). */
int wl__tls_inject(int epfd, void *out, int n, int max_events);

#endif
