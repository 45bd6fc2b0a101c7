// Raw host imports of the wasmloop ABI v1 (docs/ABI.md). Nothing but declarations lives here,
// like AssemblyScript's std/assembly/bindings: every call returns >= 0 or a negative WASI errno.
// Application code never calls these; it uses socket.ts.

/** The handle of listener `i`, or -ENOENT. */
@external("wasmloop", "listener")
export declare function wl_listener(i: i32): i32;

/** A new connection handle from a listener, or -EAGAIN / -EMFILE / ... */
@external("wasmloop", "accept")
export declare function wl_accept(listener: i32): i32;

/** Bytes read into [ptr, ptr+len), 0 at end of stream, or -errno. */
@external("wasmloop", "recv")
export declare function wl_recv(handle: i32, ptr: usize, len: i32): i32;

/** Bytes sent from [ptr, ptr+len), or -errno. */
@external("wasmloop", "send")
export declare function wl_send(handle: i32, ptr: usize, len: i32): i32;

/** `n` recv calls in one: records of 16 bytes at `ptr` (handle, buf, len, result); each
 *  record's result is what wl_recv(handle, buf, len) would return, except that buf 0 puts the
 *  bytes at the first free byte of [area, area+areaLen) (-EAGAIN if len bytes are not free
 *  there) and stores that address in buf. 0, or -EFAULT / -EINVAL for the whole call (`ptr`
 *  must be 4-aligned, `n` at most 4096). */
@external("wasmloop", "recv_many")
export declare function wl_recv_many(ptr: usize, n: i32, area: usize, areaLen: i32): i32;

/** `n` send calls in one, as wl_recv_many (no area). */
@external("wasmloop", "send_many")
export declare function wl_send_many(ptr: usize, n: i32): i32;

/** Sets the epoll interest and token of a handle (0 removes it from the set). */
@external("wasmloop", "watch")
export declare function wl_watch(handle: i32, events: u32, tokenLo: u32, tokenHi: u32): i32;

/** shutdown(2): how = 0 read, 1 write, 2 both. */
@external("wasmloop", "shutdown")
export declare function wl_shutdown_handle(handle: i32, how: i32): i32;

/** Closes a connection handle; its events still in the current batch become stale. */
@external("wasmloop", "close")
export declare function wl_close(handle: i32): i32;

/** Monotonic milliseconds. */
@external("wasmloop", "now_ms")
export declare function wl_now_ms(): f64;

/** The host's value for the limit named by the UTF-8 bytes [name, name+len), or -1 if unset. */
@external("wasmloop", "limit")
export declare function wl_limit(name: usize, len: i32): f64;

/** Whether a connection is TLS (the host ends it): 0 for plain TCP, else the bytes of
 *  [u8 alpn_len][alpn][u8 sni_len][sni] written at ptr (ABI 1.1; docs/ABI.md). */
@external("wasmloop", "tls_info")
export declare function wl_tls_info(handle: i32, ptr: usize, len: i32): i32;

/** Wall-clock milliseconds since the Unix epoch (UTC); for Date headers, not for timing. */
@external("wasmloop", "wall_ms")
export declare function wl_wall_ms(): f64;
