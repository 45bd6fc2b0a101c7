/*
 * A poll watches an epoll fd from Node's libuv loop and calls a JS function whenever it is
 * readable. With a target (wl__poll_target: an ArrayBuffer range, the guest's event ring) the
 * uv callback fetches the ready events into it with epoll_wait(..., 0) before entering JS, so a
 * wake-up makes one crossing into JS instead of two; it then calls the function with the
 * count, or not at all when there was nothing. Without a target (or when the target no longer
 * fits its ArrayBuffer) the function gets a negative errno and drains the fd itself. The
 * function may linger (wl__js_poll_linger): wait for the next events itself, fetched the same
 * way, for as long as Node's loop has nothing else to do.
 *
 * Lifetime: the struct has two owners, the JS external returned by wl__poll_start (until it
 * is garbage-collected) and the uv handle (until uv_close's callback). It is freed when both
 * let go, so wl__poll_stop on a stale handle only ever reads a live struct and sees `stopped`.
 * Everything that needs the env (references, async context, cleanup hook), and the linger
 * set, is released synchronously by wl__poll_shut, which runs either inside a JS call
 * (pollStop) or inside the env's cleanup hook, while the env is still valid.
 *
 * No static mutable state: per-poll state hangs off the handle returned to JS, so the module
 * loads in any number of envs (main thread and workers).
 */
#include "poll.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include "abi.h"
#include "convert.h"
#include "errno.h"
#include "net.h"
#include "sys.h"

enum { WL__OWNER_JS = 1, WL__OWNER_UV = 2 };

struct wl__poll {
  uv_poll_t handle; /* handle.data points back here */
  napi_env env;
  napi_ref callback;
  napi_ref receiver; /* `this` for the callback and its async resource: an empty object */
  napi_async_context async;
  napi_ref target;     /* the ArrayBuffer events are fetched into, or NULL (wl__poll_target) */
  uint32_t target_off; /* where the ring starts in it */
  int target_max;      /* how many 12-byte records the ring holds */
  int epfd;
  int linger_fd; /* epoll of {epfd, libuv's backend fd} for wl__poll_linger, or -1 */
  unsigned owners;
  bool hooked;  /* the env cleanup hook is registered */
  bool stopped; /* wl__poll_shut has run; nothing will call the callback again */
};

/* Identifies externals made by wl__poll_start, so wl__poll_stop never casts a foreign pointer. */
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

/* Undoes whatever wl__poll_start managed to set up; idempotent. May free p (no owner left). */
static void wl__poll_shut(struct wl__poll *p) {
  if (p->stopped) return;
  p->stopped = true;
  if (p->hooked) napi_remove_env_cleanup_hook(p->env, wl__poll_cleanup, p);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  if (p->receiver) napi_delete_reference(p->env, p->receiver);
  if (p->async) napi_async_destroy(p->env, p->async);
  if (p->target) napi_delete_reference(p->env, p->target);
  p->callback = p->receiver = p->target = NULL;
  p->async = NULL;
  if (p->linger_fd >= 0) close(p->linger_fd);
  p->linger_fd = -1;
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
  wl__poll_shut(p);
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

/*
 * Fetches the ready events into the target before JS runs: their count, or a negative WASI
 * errno when nothing was fetched (-ENOENT: no target; -EFAULT: the range no longer fits its
 * ArrayBuffer, which memory.grow detaches to byteLength 0; or epoll_wait's own error). The
 * range is checked on every call, since the ArrayBuffer can be detached between two.
 */
static int wl__poll_fetch(napi_env env, struct wl__poll *p) {
  napi_value buffer;
  void *ring;
  if (p->target == NULL) return -WL__WASI_ENOENT;
  if (napi_get_reference_value(env, p->target, &buffer) != napi_ok || buffer == NULL) {
    return -WL__WASI_EFAULT;
  }
  int r = wl__mem(env, buffer, p->target_off, (uint64_t)p->target_max * WL__EVENT_SIZE, &ring);
  return r < 0 ? r : wl__epoll_wait(p->epfd, ring, p->target_max, 0);
}

static void wl__poll_ready(uv_poll_t *handle, int status, int events) {
  /* What is ready, and any error, is for epoll_wait to say, not libuv. */
  (void)status, (void)events;
  struct wl__poll *p = handle->data;
  napi_env env = p->env; /* the callback may pollStop (and so release) p's references */
  napi_handle_scope scope;
  napi_value fn, recv, count;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  /* Nothing fetched into a target: nothing for JS to do (deadlines are its own timers). */
  int fetched = wl__poll_fetch(env, p);
  if (fetched != 0 && napi_get_reference_value(env, p->callback, &fn) == napi_ok &&
      napi_get_reference_value(env, p->receiver, &recv) == napi_ok &&
      napi_create_int32(env, fetched, &count) == napi_ok &&
      napi_make_callback(env, p->async, recv, fn, 1, &count, NULL) != napi_ok) {
    wl__poll_report(env);
  }
  napi_close_handle_scope(env, scope);
}

/* The env side of wl__poll_start: references, async context, cleanup hook. */
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

/* The loop side of wl__poll_start: 0 or a negative WASI errno. */
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

int wl__poll_start(napi_env env, int epfd, napi_value callback, napi_value *handle) {
  int r = wl__check_epoll(epfd);
  struct wl__poll *p = r == 0 ? calloc(1, sizeof *p) : NULL;
  if (p == NULL) return r < 0 ? r : -WL__WASI_ENOMEM;
  p->env = env;
  p->epfd = epfd;
  p->linger_fd = -1;
  r = wl__poll_init_js(env, p, callback) ? wl__poll_init_uv(env, p, epfd) : -WL__WASI_ENOMEM;
  if (r == 0 && (*handle = wl__poll_external(env, p)) != NULL) return 0;
  /* Failed part-way: the external, if made, still owns p and will free it when collected. */
  wl__poll_shut(p);
  return r < 0 ? r : -WL__WASI_ENOMEM;
}

/* The poll behind a JS handle made by wl__poll_start: 0, or -EINVAL for anything else. */
static int wl__poll_of(napi_env env, napi_value handle, struct wl__poll **out) {
  napi_valuetype type;
  bool ours = false;
  void *data;
  if (napi_typeof(env, handle, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, handle, &WL__POLL_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, handle, &data) != napi_ok) {
    return -WL__WASI_EINVAL;
  }
  *out = data;
  return 0;
}

int wl__poll_stop(napi_env env, napi_value handle) {
  struct wl__poll *p;
  int r = wl__poll_of(env, handle, &p);
  if (r < 0) return r;
  if (p->stopped) return -WL__WASI_EBADF;
  wl__poll_shut(p);
  return 0;
}

int wl__poll_target(napi_env env, napi_value handle, napi_value buffer, uint32_t off, int max) {
  struct wl__poll *p;
  void *ring;
  napi_ref ref = NULL;
  int r = wl__poll_of(env, handle, &p);
  if (r < 0) return r;
  if (p->stopped) return -WL__WASI_EBADF;
  if (buffer != NULL) {
    r = wl__mem(env, buffer, off, (uint64_t)max * WL__EVENT_SIZE, &ring);
    if (r < 0) return r;
    if (napi_create_reference(env, buffer, 1, &ref) != napi_ok) return -WL__WASI_ENOMEM;
  }
  if (p->target) napi_delete_reference(env, p->target);
  p->target = ref;
  p->target_off = off;
  p->target_max = max;
  return 0;
}

/* The linger set: epfd (data 0) and the loop's own backend fd (data 1), made on first use. */
static int wl__poll_linger_fd(struct wl__poll *p) {
  if (p->linger_fd >= 0) return p->linger_fd;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -1;
  struct epoll_event ours = {.events = EPOLLIN, .data = {.u32 = 0}};
  struct epoll_event node = {.events = EPOLLIN, .data = {.u32 = 1}};
  if (epoll_ctl(fd, EPOLL_CTL_ADD, p->epfd, &ours) != 0 ||
      epoll_ctl(fd, EPOLL_CTL_ADD, uv_backend_fd(p->handle.loop), &node) != 0) {
    close(fd);
    return -1;
  }
  return p->linger_fd = fd;
}

/*
 * libuv's own wait, made from inside one of its callbacks: it ends where libuv's would have
 * ended for something other than our epfd. uv_backend_timeout is 0 while libuv has work queued
 * (immediates, pending callbacks, closing handles) and otherwise the time to its next timer,
 * counted from the loop's clock, hence uv_update_time first. The backend fd is readable whenever
 * any fd libuv watches is ready, our epfd included (libuv's uv_poll watches it): so our epfd
 * ready wins, and the backend alone ready means Node has I/O of its own. 0 then, or on
 * timeout, a signal (EINTR) or when the set cannot be made: the caller goes back to libuv.
 */
static int wl__poll_linger(napi_env env, napi_value handle, int max_ms) {
  struct wl__poll *p;
  int r = wl__poll_of(env, handle, &p);
  if (r < 0) return r;
  if (p->stopped) return -WL__WASI_EBADF;
  uv_loop_t *loop = p->handle.loop;
  uv_update_time(loop);
  int timeout = uv_backend_timeout(loop);
  if (timeout == 0) return 0;
  if (timeout < 0 || timeout > max_ms) timeout = max_ms;
  int fd = wl__poll_linger_fd(p);
  if (fd < 0) return 0;
  struct epoll_event ready[2];
  int n = wl__sys_epoll_wait(fd, ready, 2, timeout); /* once per message at one connection */
  bool ours = (n > 0 && ready[0].data.u32 == 0) || (n > 1 && ready[1].data.u32 == 0);
  return ours ? wl__poll_fetch(env, p) : 0;
}

/* pollLinger(handle, maxMs 0..1000) -> events fetched | 0 | -errno. Its argument conversion is
 * here rather than in binding.c, so the method table is all binding.c holds of it. */
napi_value wl__js_poll_linger(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t ms = 0;
  if (!wl__args(env, info, 2, argv) || !wl__int(env, argv[1], 0, 1000, &ms)) {
    return WL__EINVAL(env);
  }
  return wl__num(env, wl__poll_linger(env, argv[0], (int)ms));
}
