/*
 * N-API glue of the TLS methods (tls.h), registered by binding.c's module init. Like
 * binding.c: no method throws; a bad argument is -EINVAL. Certificates and keys arrive as
 * Buffers (Uint8Array) from the host and are only read here, never kept: OpenSSL copies what
 * it parses.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <string.h>

#include "convert.h"
#include "errno.h"
#include "tls-binding.h"
#include "tls.h"

/* The bytes of a Uint8Array (a Buffer): false for anything else. */
static bool wl__bytes(napi_env env, napi_value v, const char **data, size_t *len) {
  napi_typedarray_type type;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  *data = p;
  return true;
}

/* r itself (an id or 0), or { errno, message } for a failure with its reason. */
static napi_value wl__tls_answer(napi_env env, int r, const char *err) {
  napi_value obj, msg;
  if (r >= 0) return wl__num(env, r);
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_string_utf8(env, err, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_set_named_property(env, obj, "errno", wl__num(env, r)) != napi_ok ||
      napi_set_named_property(env, obj, "message", msg) != napi_ok) {
    return wl__num(env, r);
  }
  return obj;
}

typedef int (*wl__ctx_fn)(int id, int slot, const char *cert, size_t cert_len, const char *key,
                          size_t key_len, char err[WL__TLS_ERR_MAX]);

static int wl__tls_new_ctx(int id, int slot, const char *cert, size_t cert_len, const char *key,
                           size_t key_len, char err[WL__TLS_ERR_MAX]) {
  (void)id, (void)slot;
  return wl__tls_context(cert, cert_len, key, key_len, err);
}
static int wl__tls_swap_ctx(int id, int slot, const char *cert, size_t cert_len,
                            const char *key, size_t key_len, char err[WL__TLS_ERR_MAX]) {
  (void)slot;
  return wl__tls_context_swap(id, cert, cert_len, key, key_len, err);
}

/* tlsContext(cert, key) / tlsContextSwap(id, cert, key) / tlsContextAdd(id, cert, key, slot?)
 * (slot: which SNI certificate to replace; none or -1 adds one) */
static napi_value wl__js_ctx(napi_env env, napi_callback_info info, bool has_id, wl__ctx_fn fn) {
  napi_value argv[4];
  int id = 0, at = has_id ? 1 : 0;
  int64_t slot = -1;
  napi_valuetype slot_type = napi_undefined;
  const char *cert, *key;
  size_t cert_len, key_len;
  char err[WL__TLS_ERR_MAX] = "";
  if (!wl__args(env, info, 4, argv) || (has_id && !wl__nonneg(env, argv[0], &id)) ||
      !wl__bytes(env, argv[at], &cert, &cert_len) || !wl__bytes(env, argv[at + 1], &key, &key_len) ||
      cert_len > INT32_MAX || key_len > INT32_MAX ||
      napi_typeof(env, argv[3], &slot_type) != napi_ok ||
      (slot_type != napi_undefined && !wl__int(env, argv[3], -1, WL__TLS_MAX_CTX, &slot))) {
    return WL__EINVAL(env);
  }
  return wl__tls_answer(env, fn(id, (int)slot, cert, cert_len, key, key_len, err), err);
}

static napi_value wl__js_tls_context(napi_env env, napi_callback_info info) {
  return wl__js_ctx(env, info, false, wl__tls_new_ctx);
}
static napi_value wl__js_tls_swap(napi_env env, napi_callback_info info) {
  return wl__js_ctx(env, info, true, wl__tls_swap_ctx);
}
static napi_value wl__js_tls_add(napi_env env, napi_callback_info info) {
  return wl__js_ctx(env, info, true, wl__tls_context_add);
}

/* The methods of two or three whole-number arguments, by which: 0 limits, 1 free, 2 listener,
 * 3 listenerId, 4 wake. */
static napi_value wl__js_ints(napi_env env, napi_callback_info info, int which) {
  napi_value argv[3];
  int a, b = 0, c = 0;
  int64_t signed_b = 0;
  int n = which == 0 ? 3 : which == 2 ? 2 : 1;
  if (!wl__args(env, info, (size_t)n, argv) || !wl__nonneg(env, argv[0], &a) ||
      (which == 0 && (!wl__nonneg(env, argv[1], &b) || !wl__nonneg(env, argv[2], &c))) ||
      (which == 2 && !wl__int(env, argv[1], -1, WL__TLS_MAX_CTX, &signed_b))) {
    return WL__EINVAL(env);
  }
  switch (which) {
    case 0: return wl__num(env, wl__tls_context_limits(a, b, c));
    case 1: return wl__num(env, wl__tls_context_free(a));
    case 2: return wl__num(env, wl__tls_listener(a, (int)signed_b));
    case 3: return wl__num(env, wl__tls_listener_id(a));
    default: return wl__num(env, wl__tls_active() ? wl__tls_wait_bound(a, -1) : -1);
  }
}

static napi_value wl__js_tls_limits(napi_env env, napi_callback_info info) {
  return wl__js_ints(env, info, 0);
}
static napi_value wl__js_tls_free(napi_env env, napi_callback_info info) {
  return wl__js_ints(env, info, 1);
}
static napi_value wl__js_tls_listener(napi_env env, napi_callback_info info) {
  return wl__js_ints(env, info, 2);
}
static napi_value wl__js_tls_listener_id(napi_env env, napi_callback_info info) {
  return wl__js_ints(env, info, 3);
}
static napi_value wl__js_tls_wake(napi_env env, napi_callback_info info) {
  return wl__js_ints(env, info, 4);
}

/* tlsContextStats(id) -> [handshakes, failures, timeouts, refused] | -errno */
static napi_value wl__js_tls_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr, v;
  int id;
  double out[4];
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &id)) return WL__EINVAL(env);
  int r = wl__tls_context_stats(id, out);
  if (r < 0) return wl__num(env, r);
  if (napi_create_array_with_length(env, 4, &arr) != napi_ok) return wl__num(env, -WL__WASI_ENOMEM);
  for (uint32_t i = 0; i < 4; i++) {
    if (napi_create_double(env, out[i], &v) != napi_ok || napi_set_element(env, arr, i, v) != napi_ok)
      return wl__num(env, -WL__WASI_ENOMEM);
  }
  return arr;
}

/* tlsInfo(fd) -> { alpn, sni } for a TLS connection, 0 for any other fd */
static napi_value wl__js_tls_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj, alpn_v, sni_v;
  int fd;
  char alpn[256], sni[256];
  if (!wl__args(env, info, 1, argv) || !wl__nonneg(env, argv[0], &fd)) return WL__EINVAL(env);
  if (!wl__tls_active() || wl__tls_info(fd, alpn, sni) == 0) return wl__num(env, 0);
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_string_utf8(env, alpn, NAPI_AUTO_LENGTH, &alpn_v) != napi_ok ||
      napi_create_string_utf8(env, sni, NAPI_AUTO_LENGTH, &sni_v) != napi_ok ||
      napi_set_named_property(env, obj, "alpn", alpn_v) != napi_ok ||
      napi_set_named_property(env, obj, "sni", sni_v) != napi_ok) {
    return wl__num(env, -WL__WASI_ENOMEM);
  }
  return obj;
}

bool wl__tls_define(napi_env env, napi_value exports) {
#define WL__METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
  const napi_property_descriptor methods[] = {
      WL__METHOD("tlsContext", wl__js_tls_context),
      WL__METHOD("tlsContextSwap", wl__js_tls_swap),
      WL__METHOD("tlsContextAdd", wl__js_tls_add),
      WL__METHOD("tlsContextLimits", wl__js_tls_limits),
      WL__METHOD("tlsContextFree", wl__js_tls_free),
      WL__METHOD("tlsContextStats", wl__js_tls_stats),
      WL__METHOD("tlsListener", wl__js_tls_listener),
      WL__METHOD("tlsListenerId", wl__js_tls_listener_id),
      WL__METHOD("tlsInfo", wl__js_tls_info),
      WL__METHOD("tlsWake", wl__js_tls_wake),
  };
#undef WL__METHOD
  return napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) ==
         napi_ok;
}
