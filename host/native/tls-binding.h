/* The TLS methods of the module (tls-binding.c), defined on its exports by binding.c. */
#ifndef WL_TLS_BINDING_H
#define WL_TLS_BINDING_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>

bool wl__tls_define(napi_env env, napi_value exports);

#endif
