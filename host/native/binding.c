/*
 * N-API glue: each method converts its JS arguments (convert.h), calls one function of net.c
 * or poll.c, and converts the result back; then the method table. No socket logic, no record
 * loop and no libuv code lives here.
 *
 * Invariants:
 *  - No exported function throws. Every argument problem is a negative WASI errno returned
 *    as a JS number: -EINVAL for a wrong type, a fraction, or a number out of range;
 *    -EFAULT for a memory range outside the ArrayBuffer. Both are decided before any syscall.
 *  - The hot path (recv, send, recvMany, sendMany, epollWait) allocates nothing and creates
 *    no strings.
 *  - No static mutable state: the module is context-aware and loads in any number of envs
 *    (main thread and workers); per-poll state hangs off the handle returned to JS (poll.c).
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "convert.h"
#include "errno.h"
#include "io-fds.h"
#include "net.h"
#include "poll.h"
#include "tls-binding.h"

#if !defined(__linux__)
#error "wasmloop's native shim needs Linux (epoll)"
#endif

/* ---- epoll ------------------------------------------------------------------------------- */

/* epollCreate() */
static napi_value wl__js_epoll_create(napi_env env, napi_callback_info info) {
  (void)info;
  return wl__num(env, wl__epoll_create());
}

/* epollCtl(epfd, op, fd, events, dataLo, dataHi) */
static napi_value wl__js_epoll_ctl(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int epfd, op, fd;
  uint32_t events, lo, hi;
  if (!wl__args(env, info, 6, argv) || !wl__nonneg(env, argv[0], &epfd) ||
      !wl__nonneg(env, argv[1], &op) || !wl__nonneg(env, argv[2], &fd) ||
      !wl__bits32(env, argv[3], &events) || !wl__bits32(env, argv[4], &lo) ||
      !wl__bits32(env, argv[5], &hi)) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__epoll_ctl(epfd, op, fd, events, (uint64_t)hi << 32 | lo));
}

/* epollWait(epfd, memory, offset, maxEvents, timeoutMs) */
static napi_value wl__js_epoll_wait(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int epfd;
  uint32_t off;
  int64_t max, timeout;
  void *out;
  if (!wl__args(env, info, 5, argv) || !wl__nonneg(env, argv[0], &epfd) ||
      !wl__u32(env, argv[2], &off) || !wl__int(env, argv[3], 1, WL__MAX_EVENTS, &max) ||
      !wl__int(env, argv[4], -1, INT32_MAX, &timeout)) {
    return WL__EINVAL(env);
  }
  int r = wl__mem(env, argv[1], off, (uint64_t)max * WL__EVENT_SIZE, &out);
  if (r == 0) r = wl__epoll_wait(epfd, out, (int)max, (int)timeout);
  return wl__num(env, r);
}

/* ---- sockets ----------------------------------------------------------------------------- */

/* The host argument of listen(): a string short enough to be a numeric address. */
static bool wl__host(napi_env env, napi_value v, char host[WL__HOST_MAX]) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return false;
  if (len >= WL__HOST_MAX) return false;
  if (napi_get_value_string_utf8(env, v, host, WL__HOST_MAX, &len) != napi_ok) return false;
  return strlen(host) == len; /* an embedded NUL would silently shorten the address */
}

/* listen(host, port, backlog, reusePort) */
static napi_value wl__js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char host[WL__HOST_MAX];
  int64_t port;
  int backlog;
  bool reuse_port;
  if (!wl__args(env, info, 4, argv) || !wl__host(env, argv[0], host) ||
      !wl__int(env, argv[1], 0, 65535, &port) || !wl__nonneg(env, argv[2], &backlog) ||
      napi_get_value_bool(env, argv[3], &reuse_port) != napi_ok) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__listen(host, (int)port, backlog, reuse_port));
}

static bool wl__set(napi_env env, napi_value obj, const char *key, napi_value v) {
  return v != NULL && napi_set_named_property(env, obj, key, v) == napi_ok;
}

typedef int (*wl__address_fn)(int fd, char host[WL__HOST_MAX], int *port, int *family);

/* localAddress/peerAddress(fd) -> {host, port, family} | -errno */
static napi_value wl__js_address(napi_env env, napi_callback_info info, wl__address_fn get) {
  napi_value argv[1], obj, host_str;
  int fd, port, family;
  char host[WL__HOST_MAX];
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &fd)) return WL__EINVAL(env);
  int r = get(fd, host, &port, &family);
  if (r < 0) return wl__num(env, r);
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &host_str) != napi_ok ||
      !wl__set(env, obj, "host", host_str) || !wl__set(env, obj, "port", wl__num(env, port)) ||
      !wl__set(env, obj, "family", wl__num(env, family))) {
    return wl__num(env, -WL__WASI_ENOMEM);
  }
  return obj;
}

static napi_value wl__js_local_address(napi_env env, napi_callback_info info) {
  return wl__js_address(env, info, wl__local_address);
}

static napi_value wl__js_peer_address(napi_env env, napi_callback_info info) {
  return wl__js_address(env, info, wl__peer_address);
}

/* accept(fd) */
static napi_value wl__js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &fd)) return WL__EINVAL(env);
  return wl__num(env, wl__accept(fd));
}

/* recv/send(fd, memory, ptr, len): the shared checks, then one syscall. */
static napi_value wl__io(napi_env env, napi_callback_info info, bool is_send) {
  napi_value argv[4];
  int fd;
  uint32_t ptr, len;
  void *buf;
  if (!wl__args(env, info, 4, argv) || !wl__nonneg(env, argv[0], &fd) ||
      !wl__u32(env, argv[2], &ptr) || !wl__u32(env, argv[3], &len) || len == 0) {
    return WL__EINVAL(env);
  }
  int r = wl__mem(env, argv[1], ptr, len, &buf);
  if (r == 0) r = is_send ? wl__send(fd, buf, len) : wl__recv(fd, buf, len);
  return wl__num(env, r);
}

static napi_value wl__js_recv(napi_env env, napi_callback_info info) {
  return wl__io(env, info, false);
}

static napi_value wl__js_send(napi_env env, napi_callback_info info) {
  return wl__io(env, info, true);
}

/*
 * recvMany(memory, ptr, n, area, areaLen) / sendMany(memory, ptr, n): record i's descriptor
 * (or errno) is entry i of the env's `ioDescriptors` (io-fds.c), written by the host; the
 * records are done by wl__io_many (net.c), which checks each against the memory. Returns 0, or
 * -EINVAL/-EFAULT for the call as a whole (then no record was touched).
 */
static napi_value wl__js_io_many(napi_env env, napi_callback_info info, bool is_send) {
  napi_value argv[5];
  const int32_t *fds = wl__io_fds(env);
  size_t size;
  void *data;
  uint32_t ptr, area = 0, area_len = 0;
  int64_t n;
  if (fds == NULL || !wl__args(env, info, is_send ? 3 : 5, argv) || !wl__u32(env, argv[1], &ptr) ||
      !wl__int(env, argv[2], 0, WL__MAX_IO, &n) ||
      (!is_send && (!wl__u32(env, argv[3], &area) || !wl__u32(env, argv[4], &area_len))) ||
      napi_get_arraybuffer_info(env, argv[0], &data, &size) != napi_ok) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__io_many(fds, data, size, ptr, (uint32_t)n, area, area_len, is_send));
}

static napi_value wl__js_recv_many(napi_env env, napi_callback_info info) {
  return wl__js_io_many(env, info, false);
}

static napi_value wl__js_send_many(napi_env env, napi_callback_info info) {
  return wl__js_io_many(env, info, true);
}

/* shutdown(fd, how) */
static napi_value wl__js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t how;
  if (!wl__args(env, info, 2, argv) || !wl__nonneg(env, argv[0], &fd) ||
      !wl__int(env, argv[1], 0, 2, &how)) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__shutdown(fd, (int)how));
}

/* close(fd) */
static napi_value wl__js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &fd)) return WL__EINVAL(env);
  return wl__num(env, wl__close(fd));
}

/* adoptListener(fd) -> 0 | -errno; dupListener(fd) -> new fd | -errno (inherit.c) */
static napi_value wl__js_fd_call(napi_env env, napi_callback_info info, int (*call)(int fd)) {
  napi_value argv[1];
  int fd;
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &fd)) return WL__EINVAL(env);
  return wl__num(env, call(fd));
}
static napi_value wl__js_adopt_listener(napi_env env, napi_callback_info info) {
  return wl__js_fd_call(env, info, wl__adopt_listener);
}
static napi_value wl__js_dup_listener(napi_env env, napi_callback_info info) {
  return wl__js_fd_call(env, info, wl__dup_listener);
}

/* ---- pollStart / pollTarget / pollStop (poll.c) ----------------------------------------- */

/* pollStart(epfd, callback) -> handle | -errno */
static napi_value wl__js_poll_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], handle;
  napi_valuetype type;
  int epfd;
  if (!wl__args(env, info, 2, argv) || !wl__nonneg(env, argv[0], &epfd) ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    return WL__EINVAL(env);
  }
  int r = wl__poll_start(env, epfd, argv[1], &handle);
  return r == 0 ? handle : wl__num(env, r);
}

/* pollTarget(handle, memory | null, ptr, maxEvents) -> 0 | -errno */
static napi_value wl__js_poll_target(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  napi_valuetype type;
  uint32_t ptr = 0;
  int64_t max = 1;
  if (!wl__args(env, info, 4, argv) || napi_typeof(env, argv[1], &type) != napi_ok) {
    return WL__EINVAL(env);
  }
  bool none = type == napi_null;
  if (!none && (!wl__u32(env, argv[2], &ptr) || !wl__int(env, argv[3], 1, WL__MAX_EVENTS, &max))) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__poll_target(env, argv[0], none ? NULL : argv[1], ptr, (int)max));
}

/* pollStop(handle) -> 0 | -EBADF (already stopped) | -EINVAL (not a poll handle) */
static napi_value wl__js_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!wl__args(env, info, 1, argv)) return WL__EINVAL(env);
  return wl__num(env, wl__poll_stop(env, argv[0]));
}

NAPI_MODULE_INIT() {
#define WL__METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
  const napi_property_descriptor methods[] = {
      WL__METHOD("epollCreate", wl__js_epoll_create),
      WL__METHOD("epollCtl", wl__js_epoll_ctl),
      WL__METHOD("epollWait", wl__js_epoll_wait),
      WL__METHOD("listen", wl__js_listen),
      WL__METHOD("localAddress", wl__js_local_address),
      WL__METHOD("peerAddress", wl__js_peer_address),
      WL__METHOD("accept", wl__js_accept),
      WL__METHOD("recv", wl__js_recv),
      WL__METHOD("send", wl__js_send),
      WL__METHOD("recvMany", wl__js_recv_many),
      WL__METHOD("sendMany", wl__js_send_many),
      WL__METHOD("shutdown", wl__js_shutdown),
      WL__METHOD("close", wl__js_close),
      WL__METHOD("adoptListener", wl__js_adopt_listener),
      WL__METHOD("dupListener", wl__js_dup_listener),
      WL__METHOD("pollStart", wl__js_poll_start),
      WL__METHOD("pollTarget", wl__js_poll_target),
      WL__METHOD("pollStop", wl__js_poll_stop),
      WL__METHOD("pollLinger", wl__js_poll_linger), /* converts its own arguments (poll.c) */
  };
#undef WL__METHOD
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) !=
          napi_ok ||
      !wl__tls_define(env, exports) || !wl__io_fds_define(env, exports)) {
    return NULL;
  }
  return exports;
}
