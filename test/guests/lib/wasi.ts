// What the WASI test commands share (imported, never built on its own: scripts/build-guests.ts
// builds only the files directly in test/guests): argv, printing to an fd, and the longest
// import declaration (path_open), over raw wasi_snapshot_preview1 imports, as a C or Rust
// program's would be.

@external("wasi_snapshot_preview1", "args_sizes_get")
declare function args_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "args_get")
declare function args_get(argv: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
export declare function fd_write(fd: u32, iovs: usize, count: u32, written: usize): u16;

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
