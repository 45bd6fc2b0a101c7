/*
 * The descriptor array of recvMany/sendMany, one per env (thread): WL__MAX_IO int32 entries,
 * exported to JS as the Int32Array `ioDescriptors` (host/kernel/contract.ts). The host writes a
 * batch's descriptors there before the call, and the shim reads them through the pointer kept
 * here: no typed array is looked up (type, length, buffer) on every call, which cost about 16 ns
 * of the call's 55 (docs/PERFORMANCE.md, "Host round").
 *
 * Invariants:
 *  - The pointer never dangles while the env lives. The memory is this module's (an external
 *    buffer: JS can view it but not free or move it; detaching a view leaves the memory here);
 *    where the runtime refuses external buffers, V8's, held by a reference until the env ends
 *    and never handed to anything that transfers buffers. Freed with the env, after its JS.
 *  - It holds host-chosen descriptors only; guest memory is never read for them.
 *  - This array is the module's instance data: nothing else may claim napi_set_instance_data.
 */
#include "io-fds.h"

#include <stdlib.h>

#include "abi.h"

struct wl__io_fds {
  int32_t *fds;
  void *owned; /* the external buffer's memory, or NULL when V8 owns it */
  napi_ref held; /* V8's buffer, or NULL */
};

static void wl__io_fds_free(napi_env env, void *data, void *hint) {
  (void)hint;
  struct wl__io_fds *io = data;
  if (io->held != NULL) napi_delete_reference(env, io->held);
  free(io->owned);
  free(io);
}

/* A view going away frees nothing: the env owns the memory. */
static void wl__io_fds_keep(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint;
}

/* The array's buffer: external memory of ours, else V8's, held by a reference. */
static bool wl__io_fds_buffer(napi_env env, struct wl__io_fds *io, napi_value *buf) {
  const size_t size = WL__MAX_IO * sizeof(int32_t);
  io->owned = calloc(WL__MAX_IO, sizeof(int32_t));
  if (io->owned == NULL) return false;
  napi_status s =
      napi_create_external_arraybuffer(env, io->owned, size, wl__io_fds_keep, NULL, buf);
  if (s == napi_ok) {
    io->fds = io->owned;
    return true;
  }
  free(io->owned);
  io->owned = NULL;
  void *data;
  if (s != napi_no_external_buffers_allowed ||
      napi_create_arraybuffer(env, size, &data, buf) != napi_ok ||
      napi_create_reference(env, *buf, 1, &io->held) != napi_ok) {
    return false;
  }
  io->fds = data;
  return true;
}

bool wl__io_fds_define(napi_env env, napi_value exports) {
  struct wl__io_fds *io = calloc(1, sizeof *io);
  if (io == NULL) return false;
  if (napi_set_instance_data(env, io, wl__io_fds_free, NULL) != napi_ok) {
    free(io);
    return false;
  }
  napi_value buf, view;
  return wl__io_fds_buffer(env, io, &buf) &&
         napi_create_typedarray(env, napi_int32_array, WL__MAX_IO, buf, 0, &view) == napi_ok &&
         napi_set_named_property(env, exports, "ioDescriptors", view) == napi_ok;
}

const int32_t *wl__io_fds(napi_env env) {
  struct wl__io_fds *io = NULL;
  return napi_get_instance_data(env, (void **)&io) == napi_ok && io != NULL ? io->fds : NULL;
}
