/*
 * Hanging an epoll fd on Node's libuv loop (uv_poll): the calling-thread driver's wake-up.
 * binding.c converts the JS arguments (pollLinger's are converted in poll.c); this file owns the
 * handle's whole lifecycle.
 */
#ifndef WL_POLL_H
#define WL_POLL_H

#define NAPI_VERSION 8
#include <node_api.h>

/*
 * Starts calling `callback` (a JS function) whenever epfd is readable. Its one argument is the
 * count of events already fetched into the target (wl__poll_target), or a negative WASI errno
 * when none were fetched (no target: -ENOENT), and then it is expected to drain epfd with
 * epollWait(..., 0); with a target and no event it is not called. Only epoll fds are accepted
 * (-EINVAL, -EBADF otherwise). libuv watches an fd once per loop: a second poll of the same
 * epfd (or of an fd Node itself watches) is -EEXIST. On success *handle is the JS value that
 * owns the poll until it is collected: 0, or a negative WASI errno.
 */
int wl__poll_start(napi_env env, int epfd, napi_value callback, napi_value *handle);

/* Stops a poll: 0, -EBADF if it was already stopped, -EINVAL if `handle` is not a poll. */
int wl__poll_stop(napi_env env, napi_value handle);

/*
 * Points the fetch at buffer[off, off + max * 12) (an ArrayBuffer: the guest's event ring), or
 * at nothing when buffer is NULL. The poll holds the buffer until the next call or its stop.
 * 0, -EFAULT (the range is outside the buffer), -EINVAL (not a poll), -EBADF (stopped).
 */
int wl__poll_target(napi_env env, napi_value handle, napi_value buffer, uint32_t off, int max);

/*
 * The JS method pollLinger(handle, maxMs): waits up to maxMs (less if a libuv timer is due
 * sooner; not at all if libuv has work pending) for events on the poll's epfd, unless one of
 * libuv's own fds gets one first. The count fetched into the target, 0 (libuv has something,
 * or the time is up), or a negative WASI errno (-EINVAL: bad arguments; -EBADF: stopped).
 */
napi_value wl__js_poll_linger(napi_env env, napi_callback_info info);

#endif
