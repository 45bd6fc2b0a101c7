/*
 * Hanging an epoll fd on Node's libuv loop (uv_poll): the calling-thread driver's wake-up.
 * binding.c converts the JS arguments; this file owns the handle's whole lifecycle.
 */
#ifndef WL_POLL_H
#define WL_POLL_H

#define NAPI_VERSION 8
#include <node_api.h>

/*
 * Starts calling `callback` (a JS function, no arguments) whenever epfd is readable; the
 * callback is expected to drain it with epollWait(..., 0). Only epoll fds are accepted
 * (-EINVAL, -EBADF otherwise). libuv watches an fd once per loop: a second poll of the same
 * epfd (or of an fd Node itself watches) is -EEXIST. On success *handle is the JS value that
 * owns the poll until it is collected: 0, or a negative WASI errno.
 */
int wl__poll_start(napi_env env, int epfd, napi_value callback, napi_value *handle);

/* Stops a poll: 0, -EBADF if it was already stopped, -EINVAL if `handle` is not a poll. */
int wl__poll_stop(napi_env env, napi_value handle);

#endif
