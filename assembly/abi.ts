// Raw host imports of the wasmloop ABI v1 (docs/ABI.md). Nothing but declarations lives here,
// like AssemblyScript's std/assembly/bindings: every call returns >= 0 or a negative WASI errno.
// Application code never calls these; it uses conn.ts.

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

/** Wall-clock milliseconds since the Unix epoch (UTC); for Date headers, not for timing. */
@external("wasmloop", "wall_ms")
export declare function wl_wall_ms(): f64;
