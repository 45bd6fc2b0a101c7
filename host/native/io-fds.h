/*
 * The descriptor array of recvMany/sendMany (io-fds.c): one per env, owned by this module.
 */
#ifndef WL_IO_FDS_H
#define WL_IO_FDS_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>

/* Makes the env's array and exports it as `ioDescriptors`. False when it could not. */
bool wl__io_fds_define(napi_env env, napi_value exports);

/* The env's array (WL__MAX_IO entries), or NULL. */
const int32_t *wl__io_fds(napi_env env);

#endif
