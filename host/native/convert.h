/*
 * JS value -> C argument conversions for binding.c's methods. Header-only (static inline) so
 * the hot path (recv, send, epollWait) pays no call for them.
 *
 * Every check fails closed: a wrong type, a fraction, NaN, or a number out of range is false
 * (the method then returns -EINVAL), a memory range outside the ArrayBuffer -EFAULT; both are
 * decided before any syscall. Nothing here allocates or creates strings.
 */
#ifndef WL_CONVERT_H
#define WL_CONVERT_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errno.h"

/* Fetches exactly n arguments; missing ones read as undefined and fail every check below. */
static inline bool wl__args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

/*
 * An integral JS number in [lo, hi] (|lo|, |hi| < 2^53, so the comparisons are exact).
 * Read as a double so NaN, infinities and fractions are refused rather than truncated.
 */
static inline bool wl__int(napi_env env, napi_value v, int64_t lo, int64_t hi, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= (double)lo && d <= (double)hi)) return false; /* also false for NaN */
  int64_t i = (int64_t)d;
  if ((double)i != d) return false;
  *out = i;
  return true;
}

/* A descriptor or other non-negative C int. */
static inline bool wl__nonneg(napi_env env, napi_value v, int *out) {
  int64_t i;
  if (!wl__int(env, v, 0, INT32_MAX, &i)) return false;
  *out = (int)i;
  return true;
}

/* A guest pointer or length: an unsigned 32-bit number. */
static inline bool wl__u32(napi_env env, napi_value v, uint32_t *out) {
  int64_t i;
  if (!wl__int(env, v, 0, UINT32_MAX, &i)) return false;
  *out = (uint32_t)i;
  return true;
}

/* A u32 bit pattern that may arrive signed from a wasm i32 (EPOLLET is -2^31): low 32 bits. */
static inline bool wl__bits32(napi_env env, napi_value v, uint32_t *out) {
  int64_t i;
  if (!wl__int(env, v, INT32_MIN, UINT32_MAX, &i)) return false;
  *out = (uint32_t)i; /* conversion to unsigned is modulo 2^32 */
  return true;
}

/*
 * memory[off, off + len) as a pointer, or a negative WASI errno. A detached ArrayBuffer has
 * byteLength 0, so any len >= 1 is -EFAULT. The sum is computed in 64 bits: no wrap-around.
 */
static inline int wl__mem(napi_env env, napi_value buf, uint32_t off, uint64_t len, void **out) {
  void *data;
  size_t size;
  if (napi_get_arraybuffer_info(env, buf, &data, &size) != napi_ok) return -WL__WASI_EINVAL;
  if ((uint64_t)off + len > (uint64_t)size) return -WL__WASI_EFAULT;
  *out = (char *)data + off;
  return 0;
}

static inline napi_value wl__num(napi_env env, int32_t v) {
  napi_value r;
  return napi_create_int32(env, v, &r) == napi_ok ? r : NULL;
}

#define WL__EINVAL(env) wl__num((env), -WL__WASI_EINVAL)

#endif
