// The WASI errno values the guest core acts on (full table: host/errno.ts, docs/ABI.md).
export const EAGAIN: i32 = 6;
export const ECONNABORTED: i32 = 13;
export const EINTR: i32 = 27;
export const EMFILE: i32 = 33;
export const ENFILE: i32 = 41;
export const ENOBUFS: i32 = 42;
export const ENOMEM: i32 = 48;
