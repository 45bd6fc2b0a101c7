/*
 * The floor of an echo server on Node's own libuv loop: a measuring tool for the libuv driver
 * (docs/PERFORMANCE.md, "Embedded driver, second round"), not part of the bench's runs. It
 * serves echo in C, with none of wasmloop in it, in the shapes the driver could take:
 *
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -shared -fPIC -I/usr/include/node \
 *      bench/c/uv-floor.c -o bench/build/uv-floor.node
 *   node -e "require('./bench/build/uv-floor.node').start(PORT, SHAPE, JS, () => {});
 *            setInterval(() => {}, 1e9)"
 *
 *   SHAPE 0  nested: one epoll fd holds the listener and the connections; one uv_poll_t watches
 *            it and its callback drains it with epoll_wait(..., 0) (the libuv driver's shape);
 *   SHAPE 1  direct: one uv_poll_t per socket, in libuv's own epoll.
 *   JS       0: no JS at all; 1: one napi_make_callback into the function per wake-up (as the
 *            driver enters the guest); 2: napi_call_function in a handle scope instead;
 *            +8: clear Node's UV_METRICS_IDLE_TIME first (an experiment only: it reaches into
 *            libuv's internal fields, whose first member is the flags word).
 *
 * Each readiness event is one recv into a shared buffer and one send of what was read, as in
 * echo-server.c, which it is measured against (echo-load -c 1, CPU time from /proc).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

struct conn {
  uv_poll_t handle;
  int fd;
};

static napi_env env_;
static napi_ref callback, receiver;
static napi_async_context async;
static int shape, js, epfd = -1, lfd = -1;
static uv_loop_t *loop;
static uv_poll_t listener_poll;
static char buf[64 * 1024];

static void enter_js(void) {
  napi_handle_scope scope;
  napi_value fn, recv;
  if (js == 0 || napi_open_handle_scope(env_, &scope) != napi_ok) return;
  napi_get_reference_value(env_, callback, &fn);
  napi_get_reference_value(env_, receiver, &recv);
  if (js == 2) napi_call_function(env_, recv, fn, 0, NULL, NULL);
  else napi_make_callback(env_, async, recv, fn, 0, NULL, NULL);
  napi_close_handle_scope(env_, scope);
}

/* One recv and one send; -1 when the connection is over. */
static int echo(int fd) {
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) return -1;
  return send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0 && errno != EAGAIN ? -1 : 0;
}

static void conn_ready(uv_poll_t *handle, int status, int events) {
  (void)status, (void)events;
  struct conn *c = handle->data;
  if (echo(c->fd) < 0) {
    uv_poll_stop(handle); /* leaked: a measuring tool's connections live until it exits */
    close(c->fd);
  }
  enter_js();
}

static void watch(int fd) {
  if (shape == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = fd}};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    return;
  }
  struct conn *c = calloc(1, sizeof *c);
  if (c == NULL) return;
  c->fd = fd;
  c->handle.data = c;
  uv_poll_init(loop, &c->handle, fd);
  uv_poll_start(&c->handle, UV_READABLE, conn_ready);
}

static void accept_all(void) {
  int fd, one = 1;
  while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    watch(fd);
  }
}

static void listener_ready(uv_poll_t *handle, int status, int events) {
  (void)handle, (void)status, (void)events;
  accept_all();
}

static void nested_ready(uv_poll_t *handle, int status, int events) {
  (void)handle, (void)status, (void)events;
  struct epoll_event evs[256];
  int n = epoll_wait(epfd, evs, 256, 0);
  for (int i = 0; i < n; i++) {
    int fd = evs[i].data.fd;
    if (fd == lfd) accept_all();
    else if (echo(fd) < 0) close(fd);
  }
  if (n > 0) enter_js();
}

static int listen_on(int port) {
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1024) == 0 ? 0 : -1;
}

/* start(port, shape, js, fn): throws nothing; returns false when it could not listen. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], recv, name, ok;
  int port = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &port);
  napi_get_value_int32(env, argv[1], &shape);
  napi_get_value_int32(env, argv[2], &js);
  env_ = env;
  napi_create_object(env, &recv);
  napi_create_reference(env, recv, 1, &receiver);
  napi_create_reference(env, argv[3], 1, &callback);
  napi_create_string_utf8(env, "uv-floor", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, recv, name, &async);
  napi_get_uv_event_loop(env, &loop);
  if (js & 8) *(unsigned *)loop->internal_fields &= ~(unsigned)UV_METRICS_IDLE_TIME;
  js &= 7;
  bool listening = listen_on(port) == 0;
  if (listening && shape == 0) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    watch(lfd);
    uv_poll_init(loop, &listener_poll, epfd);
    uv_poll_start(&listener_poll, UV_READABLE, nested_ready);
  } else if (listening) {
    uv_poll_init(loop, &listener_poll, lfd);
    uv_poll_start(&listener_poll, UV_READABLE, listener_ready);
  }
  napi_get_boolean(env, listening, &ok);
  return ok;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  return exports;
}
