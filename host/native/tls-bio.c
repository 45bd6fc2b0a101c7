/*
 * The socket BIO of TLS connections (tls-internal.h). OpenSSL's own socket BIO writes with
 * write(2): on a connection the peer has reset, that raises SIGPIPE, which kills the process
 * when its disposition is SIG_DFL (Node ignores SIGPIPE at start, but an embedder that added
 * and then removed a 'SIGPIPE' listener has put it back to SIG_DFL). This one writes with
 * send(MSG_NOSIGNAL) and reads with recv(2), like the plaintext path (net.c; both through
 * sys.h); everything else a socket BIO does that SSL uses is kept: retry flags on EAGAIN, EOF
 * for SSL_OP_IGNORE_UNEXPECTED_EOF, the fd for SSL_get_fd.
 */
#include <errno.h>
#include <openssl/bio.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sys.h"
#include "tls-internal.h"

static BIO_METHOD *wl__method;
static pthread_once_t wl__method_once = PTHREAD_ONCE_INIT;

static int wl__fd_of(BIO *b) { return (int)(intptr_t)BIO_get_data(b); }

static bool wl__retry(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

static int wl__bio_write(BIO *b, const char *buf, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = wl__sys_send(wl__fd_of(b), buf, (size_t)len, MSG_NOSIGNAL);
  if (n < 0 && wl__retry(errno)) BIO_set_retry_write(b);
  return (int)n;
}

static int wl__bio_read(BIO *b, char *buf, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = wl__sys_recv(wl__fd_of(b), buf, (size_t)len, 0);
  if (n < 0 && wl__retry(errno)) BIO_set_retry_read(b);
  if (n == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
  return (int)n;
}

static long wl__bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)num;
  switch (cmd) {
    case BIO_C_GET_FD:
      if (ptr != NULL) *(int *)ptr = wl__fd_of(b);
      return wl__fd_of(b);
    case BIO_CTRL_EOF:
      return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    case BIO_CTRL_FLUSH:
      return 1; /* nothing is buffered here */
    default:
      return 0;
  }
}

/* The fd is not the BIO's to close: close(2) belongs to the guest's close (net.c). */
static int wl__bio_destroy(BIO *b) {
  BIO_set_data(b, NULL);
  BIO_set_init(b, 0);
  return 1;
}

static void wl__make_method(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                               "wasmloop socket");
  if (m == NULL || BIO_meth_set_write(m, wl__bio_write) != 1 ||
      BIO_meth_set_read(m, wl__bio_read) != 1 || BIO_meth_set_ctrl(m, wl__bio_ctrl) != 1 ||
      BIO_meth_set_destroy(m, wl__bio_destroy) != 1) {
    BIO_meth_free(m);
    return;
  }
  wl__method = m;
}

BIO *wl__tls_bio(int fd) {
  pthread_once(&wl__method_once, wl__make_method);
  BIO *b = wl__method != NULL ? BIO_new(wl__method) : NULL;
  if (b == NULL) return NULL;
  BIO_set_data(b, (void *)(intptr_t)fd);
  BIO_set_init(b, 1);
  return b;
}
