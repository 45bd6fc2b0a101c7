/*
 * N-API glue: argument checks and conversions around net.c, plus pollStart/pollStop, which
 * hang an epoll fd on Node's libuv loop. No socket logic lives here.
 *
 * Invariants:
 *  - No exported function throws. Every argument problem is a negative WASI errno returned
 *    as a JS number: -EINVAL for a wrong type, a fraction, or a number out of range;
 *    -EFAULT for a memory range outside the ArrayBuffer. Both are decided before any syscall.
 *  - The hot path (recv, send, epollWait) allocates nothing and creates no strings.
 *  - No static mutable state: the module is context-aware and loads in any number of envs
 *    (main thread and workers); per-poll state hangs off the handle returned to JS.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errno.h"
#include "net.h"

#if !defined(__linux__)
#error "wasmloop's native shim needs Linux (epoll)"
#endif

#define WL__MAX_EVENTS 65536

/* recvMany/sendMany: one I/O record in guest memory (docs/ABI.md, recv_many), and the most
 * records one call takes. */
#define WL__IO_RECORD 16
#define WL__MAX_IO 4096

/* ---- arguments --------------------------------------------------------------------------- */

/* Fetches exactly n arguments; missing ones read as undefined and fail every check below. */
static bool wl__args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

/*
 * An integral JS number in [lo, hi] (|lo|, |hi| < 2^53, so the comparisons are exact).
 * Read as a double so NaN, infinities and fractions are refused rather than truncated.
 */
static bool wl__int(napi_env env, napi_value v, int64_t lo, int64_t hi, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= (double)lo && d <= (double)hi)) return false; /* also false for NaN */
  int64_t i = (int64_t)d;
  if ((double)i != d) return false;
  *out = i;
  return true;
}

/* A descriptor or other non-negative C int. */
static bool wl__nonneg(napi_env env, napi_value v, int *out) {
  int64_t i;
  if (!wl__int(env, v, 0, INT32_MAX, &i)) return false;
  *out = (int)i;
  return true;
}

/* A guest pointer or length: an unsigned 32-bit number. */
static bool wl__u32(napi_env env, napi_value v, uint32_t *out) {
  int64_t i;
  if (!wl__int(env, v, 0, UINT32_MAX, &i)) return false;
  *out = (uint32_t)i;
  return true;
}

/* A u32 bit pattern that may arrive signed from a wasm i32 (EPOLLET is -2^31): low 32 bits. */
static bool wl__bits32(napi_env env, napi_value v, uint32_t *out) {
  int64_t i;
  if (!wl__int(env, v, INT32_MIN, UINT32_MAX, &i)) return false;
  *out = (uint32_t)i; /* conversion to unsigned is modulo 2^32 */
  return true;
}

/*
 * memory[off, off + len) as a pointer, or a negative WASI errno. A detached ArrayBuffer has
 * byteLength 0, so any len >= 1 is -EFAULT. The sum is computed in 64 bits: no wrap-around.
 */
static int wl__mem(napi_env env, napi_value buf, uint32_t off, uint64_t len, void **out) {
  void *data;
  size_t size;
  if (napi_get_arraybuffer_info(env, buf, &data, &size) != napi_ok) return -WL__WASI_EINVAL;
  if ((uint64_t)off + len > (uint64_t)size) return -WL__WASI_EFAULT;
  *out = (char *)data + off;
  return 0;
}

static napi_value wl__num(napi_env env, int32_t v) {
  napi_value r;
  return napi_create_int32(env, v, &r) == napi_ok ? r : NULL;
}

#define WL__EINVAL(env) wl__num((env), -WL__WASI_EINVAL)

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

static uint32_t wl__load_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wl__store_u32le(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * recvMany(fds, memory, ptr, n, area, areaLen) / sendMany(fds, memory, ptr, n): n records of
 * 16 bytes at memory[ptr] (u32 handle, unused here; u32 buf; u32 len; i32 result). fds is an
 * Int32Array from the host: fds[i] is record i's descriptor, or a negative errno the host
 * already decided (bad handle), stored as the result untouched. Each record is checked and
 * done in order, exactly as recv/send would: len 0 is -EINVAL, [buf, buf + len) outside memory
 * -EFAULT. For recvMany, buf 0 means "in the area": the bytes go to the area's first free byte,
 * which is stored in buf, if len bytes are free there, else the result is -EAGAIN (no syscall);
 * len above areaLen is -EINVAL. Returns 0, or -EINVAL/-EFAULT for the call as a whole (then no
 * record was touched).
 */
static napi_value wl__io_many(napi_env env, napi_callback_info info, bool is_send) {
  napi_value argv[6];
  napi_typedarray_type type;
  size_t count, size;
  void *fdv, *data;
  uint32_t ptr, area = 0, area_len = 0;
  int64_t n;
  if (!wl__args(env, info, is_send ? 4 : 6, argv) ||
      napi_get_typedarray_info(env, argv[0], &type, &count, &fdv, NULL, NULL) != napi_ok ||
      type != napi_int32_array || !wl__u32(env, argv[2], &ptr) ||
      !wl__int(env, argv[3], 0, WL__MAX_IO, &n) || (size_t)n > count ||
      (!is_send && (!wl__u32(env, argv[4], &area) || !wl__u32(env, argv[5], &area_len))) ||
      napi_get_arraybuffer_info(env, argv[1], &data, &size) != napi_ok) {
    return WL__EINVAL(env);
  }
  if ((uint64_t)ptr + (uint64_t)n * WL__IO_RECORD > (uint64_t)size ||
      (uint64_t)area + area_len > (uint64_t)size) {
    return wl__num(env, -WL__WASI_EFAULT);
  }
  const int32_t *fds = fdv;
  unsigned char *mem = data;
  uint32_t free_at = area, area_end = area + area_len; /* area_end <= size: no wrap-around */
  for (int64_t i = 0; i < n; i++) {
    unsigned char *rec = mem + ptr + i * WL__IO_RECORD;
    uint32_t buf = wl__load_u32le(rec + 4), len = wl__load_u32le(rec + 8);
    bool in_area = !is_send && buf == 0;
    int r = fds[i];
    if (r < 0) {
      /* the host's verdict on the handle */
    } else if (len == 0 || (in_area && len > area_len)) {
      r = -WL__WASI_EINVAL;
    } else if (in_area && area_end - free_at < len) {
      r = -WL__WASI_EAGAIN;
    } else if (in_area) {
      r = wl__recv(r, mem + free_at, len);
      wl__store_u32le(rec + 4, free_at);
      if (r > 0) free_at += (uint32_t)r;
    } else if ((uint64_t)buf + len > (uint64_t)size) {
      r = -WL__WASI_EFAULT;
    } else {
      r = is_send ? wl__send(r, mem + buf, len) : wl__recv(r, mem + buf, len);
    }
    wl__store_u32le(rec + 12, (uint32_t)r); /* modulo 2^32: the i32 bit pattern */
  }
  return wl__num(env, 0);
}

static napi_value wl__js_recv_many(napi_env env, napi_callback_info info) {
  return wl__io_many(env, info, false);
}

static napi_value wl__js_send_many(napi_env env, napi_callback_info info) {
  return wl__io_many(env, info, true);
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

/* ---- pollStart / pollStop ---------------------------------------------------------------- */

/*
 * A poll watches an epoll fd from Node's libuv loop and calls a JS function (no arguments)
 * whenever it is readable; the function is expected to drain it with epollWait(..., 0).
 *
 * Lifetime: the struct has two owners, the JS external returned by pollStart (until it is
 * garbage-collected) and the uv handle (until uv_close's callback). It is freed when both
 * let go, so pollStop on a stale handle only ever reads a live struct and sees `stopped`.
 * Everything that needs the env (references, async context, cleanup hook) is released
 * synchronously by wl__poll_stop, which runs either inside a JS call (pollStop) or inside
 * the env's cleanup hook, while the env is still valid.
 */
enum { WL__OWNER_JS = 1, WL__OWNER_UV = 2 };

struct wl__poll {
  uv_poll_t handle; /* handle.data points back here */
  napi_env env;
  napi_ref callback;
  napi_ref receiver; /* `this` for the callback and its async resource: an empty object */
  napi_async_context async;
  unsigned owners;
  bool hooked;  /* the env cleanup hook is registered */
  bool stopped; /* wl__poll_stop has run; nothing will call the callback again */
};

/* Identifies externals made by pollStart, so pollStop never casts a foreign pointer. */
static const napi_type_tag WL__POLL_TAG = {0x7761736d6c6f6f70ULL, 0x706f6c6c68616e64ULL};

static void wl__poll_drop(struct wl__poll *p, unsigned owner) {
  p->owners &= ~owner;
  if (p->owners == 0) free(p);
}

static void wl__poll_closed(uv_handle_t *handle) {
  wl__poll_drop(handle->data, WL__OWNER_UV);
}

static void wl__poll_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  wl__poll_drop(data, WL__OWNER_JS);
}

static void wl__poll_cleanup(void *arg);

/* Undoes whatever pollStart managed to set up; idempotent. May free p (no owner left). */
static void wl__poll_stop(struct wl__poll *p) {
  if (p->stopped) return;
  p->stopped = true;
  if (p->hooked) napi_remove_env_cleanup_hook(p->env, wl__poll_cleanup, p);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  if (p->receiver) napi_delete_reference(p->env, p->receiver);
  if (p->async) napi_async_destroy(p->env, p->async);
  p->callback = p->receiver = NULL;
  p->async = NULL;
  if (p->owners & WL__OWNER_UV) {
    uv_poll_stop(&p->handle);
    uv_close((uv_handle_t *)&p->handle, wl__poll_closed);
  } else if (p->owners == 0) {
    free(p);
  }
}

/* The env is going away (process exit, worker end) with the poll still running. */
static void wl__poll_cleanup(void *arg) {
  struct wl__poll *p = arg;
  p->hooked = false; /* Node removed the hook before calling it */
  wl__poll_stop(p);
}

/* A throw from the callback must not vanish: hand it to Node's uncaught-exception path. */
static void wl__poll_report(napi_env env) {
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(env, &error) == napi_ok) {
    napi_fatal_exception(env, error);
  }
}

static void wl__poll_ready(uv_poll_t *handle, int status, int events) {
  /* What is ready, and any error, is for epollWait to say: always call the callback. */
  (void)status, (void)events;
  struct wl__poll *p = handle->data;
  napi_env env = p->env; /* the callback may pollStop (and so release) p's references */
  napi_handle_scope scope;
  napi_value fn, recv;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, p->callback, &fn) == napi_ok &&
      napi_get_reference_value(env, p->receiver, &recv) == napi_ok &&
      napi_make_callback(env, p->async, recv, fn, 0, NULL, NULL) != napi_ok) {
    wl__poll_report(env);
  }
  napi_close_handle_scope(env, scope);
}

/* The env side of pollStart: references, async context, cleanup hook. */
static bool wl__poll_init_js(napi_env env, struct wl__poll *p, napi_value fn) {
  napi_value recv, name;
  if (napi_create_object(env, &recv) != napi_ok ||
      napi_create_reference(env, recv, 1, &p->receiver) != napi_ok ||
      napi_create_reference(env, fn, 1, &p->callback) != napi_ok ||
      napi_create_string_utf8(env, "wasmloop.poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, recv, name, &p->async) != napi_ok ||
      napi_add_env_cleanup_hook(env, wl__poll_cleanup, p) != napi_ok) {
    return false;
  }
  p->hooked = true;
  return true;
}

/* The loop side of pollStart: 0 or a negative WASI errno. */
static int wl__poll_init_uv(napi_env env, struct wl__poll *p, int epfd) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return -WL__WASI_EIO;
  int r = uv_poll_init(loop, &p->handle, epfd); /* libuv errors are -errno on Unix */
  if (r != 0) return -wl__wasi_errno(-r);
  p->handle.data = p;
  p->owners |= WL__OWNER_UV;
  r = uv_poll_start(&p->handle, UV_READABLE, wl__poll_ready);
  return r == 0 ? 0 : -wl__wasi_errno(-r);
}

/* The handle JS holds; it owns p until it is collected. */
static napi_value wl__poll_external(napi_env env, struct wl__poll *p) {
  napi_value ext;
  if (napi_create_external(env, p, wl__poll_finalize, NULL, &ext) != napi_ok) return NULL;
  p->owners |= WL__OWNER_JS;
  return napi_type_tag_object(env, ext, &WL__POLL_TAG) == napi_ok ? ext : NULL;
}

/*
 * pollStart(epfd, callback) -> handle | -errno. Only epoll fds are accepted. libuv watches an
 * fd once per loop: a second poll of the same epfd (or of an fd Node itself watches) is
 * uv_poll_init's UV_EEXIST, i.e. -EEXIST.
 */
static napi_value wl__js_poll_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], ext;
  napi_valuetype type;
  int epfd;
  if (!wl__args(env, info, 2, argv) || !wl__nonneg(env, argv[0], &epfd) ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    return WL__EINVAL(env);
  }
  int r = wl__check_epoll(epfd);
  struct wl__poll *p = r == 0 ? calloc(1, sizeof *p) : NULL;
  if (p == NULL) return wl__num(env, r < 0 ? r : -WL__WASI_ENOMEM);
  p->env = env;
  r = wl__poll_init_js(env, p, argv[1]) ? wl__poll_init_uv(env, p, epfd) : -WL__WASI_ENOMEM;
  if (r == 0 && (ext = wl__poll_external(env, p)) != NULL) return ext;
  /* Failed part-way: the external, if made, still owns p and will free it when collected. */
  wl__poll_stop(p);
  return wl__num(env, r < 0 ? r : -WL__WASI_ENOMEM);
}

/* pollStop(handle) -> 0 | -EBADF (already stopped) | -EINVAL (not a poll handle) */
static napi_value wl__js_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_valuetype type;
  bool ours = false;
  void *data;
  if (!wl__args(env, info, 1, argv) || napi_typeof(env, argv[0], &type) != napi_ok ||
      type != napi_external ||
      napi_check_object_type_tag(env, argv[0], &WL__POLL_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, argv[0], &data) != napi_ok) {
    return WL__EINVAL(env);
  }
  struct wl__poll *p = data;
  if (p->stopped) return wl__num(env, -WL__WASI_EBADF);
  wl__poll_stop(p);
  return wl__num(env, 0);
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
      WL__METHOD("pollStart", wl__js_poll_start),
      WL__METHOD("pollStop", wl__js_poll_stop),
  };
#undef WL__METHOD
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) !=
      napi_ok) {
    return NULL;
  }
  return exports;
}
