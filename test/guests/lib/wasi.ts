// What the WASI test commands share (imported, never built on its own: scripts/build-guests.ts
// builds only the files directly in test/guests): argv, printing to an fd, and the import
// declarations, over raw wasi_snapshot_preview1 imports, as a C or Rust program's would be. A
// declaration no command calls adds no import to its module.

@external("wasi_snapshot_preview1", "args_get")
export declare function args_get(argv: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "args_sizes_get")
export declare function args_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "clock_res_get")
export declare function clock_res_get(id: u32, res: usize): u16;
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function clock_time_get(id: u32, precision: u64, time: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
export declare function environ_get(environ: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get")
export declare function environ_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
export declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_get")
export declare function fd_fdstat_get(fd: u32, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_set_flags")
export declare function fd_fdstat_set_flags(fd: u32, flags: u16): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_set_rights")
export declare function fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64): u16;
@external("wasi_snapshot_preview1", "fd_filestat_get")
export declare function fd_filestat_get(fd: u32, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
export declare function fd_prestat_dir_name(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
export declare function fd_prestat_get(fd: u32, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
export declare function fd_read(fd: u32, iovs: usize, count: u32, nread: usize): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
export declare function fd_readdir(fd: u32, buf: usize, len: u32, cookie: u64, used: usize): u16;
@external("wasi_snapshot_preview1", "fd_renumber")
export declare function fd_renumber(from: u32, to: u32): u16;
@external("wasi_snapshot_preview1", "fd_seek")
export declare function fd_seek(fd: u32, offset: i64, whence: u8, result: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
export declare function fd_write(fd: u32, iovs: usize, count: u32, written: usize): u16;
@external("wasi_snapshot_preview1", "path_create_directory")
export declare function path_create_directory(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_open")
export declare function path_open(
  dirfd: u32,
  dirflags: u32,
  path: usize,
  pathLen: u32,
  oflags: u16,
  base: u64,
  inheriting: u64,
  fdflags: u16,
  fd: usize,
): u16;
@external("wasi_snapshot_preview1", "path_remove_directory")
export declare function path_remove_directory(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "poll_oneoff")
export declare function poll_oneoff(subs: usize, events: usize, count: u32, nevents: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(code: u32): void;
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "sched_yield")
export declare function sched_yield(): u16;
@external("wasi_snapshot_preview1", "sock_accept")
export declare function sock_accept(fd: u32, flags: u16, result: usize): u16;
@external("wasi_snapshot_preview1", "sock_recv")
export declare function sock_recv(
  fd: u32,
  iovs: usize,
  count: u32,
  flags: u16,
  nread: usize,
  roflags: usize,
): u16;
@external("wasi_snapshot_preview1", "sock_send")
export declare function sock_send(fd: u32, iovs: usize, count: u32, flags: u16, nsent: usize): u16;
@external("wasi_snapshot_preview1", "sock_shutdown")
export declare function sock_shutdown(fd: u32, how: u8): u16;

const IO = memory.data(16, 8);

/** Writes all of `s` to `fd`; traps if a write fails. */
export function print(fd: u32, s: string): void {
  const b = String.UTF8.encode(s);
  let ptr = changetype<usize>(b),
    len = <u32>b.byteLength;
  while (len > 0) {
    store<usize>(IO, ptr);
    store<u32>(IO, len, 4);
    if (fd_write(fd, IO, 1, IO + 8) != 0) unreachable();
    const n = load<u32>(IO, 8);
    ptr += n;
    len -= n;
  }
}

/** The command's arguments, argv[0] first. */
export function args(): string[] {
  args_sizes_get(IO, IO + 4);
  const count = load<u32>(IO),
    size = load<u32>(IO, 4);
  const ptrs = heap.alloc(count * 4 + 4),
    buf = heap.alloc(size + 1);
  args_get(ptrs, buf);
  const out = new Array<string>();
  for (let i: u32 = 0; i < count; i++)
    out.push(String.UTF8.decodeUnsafe(load<usize>(ptrs + i * 4), 1 << 20, true));
  return out;
}
