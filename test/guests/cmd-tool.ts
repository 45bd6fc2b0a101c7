// A plain WASI preview1 command module (no wasmloop exports) for test/command.test.ts. Its first
// argument picks what it does, so one module covers every case:
//   args            prints each argument (argv[0] first) on its own line
//   env             prints each environment entry on its own line
//   exit N          proc_exit(N)
//   trap            executes `unreachable`
//   abort           fails an assertion (AssemblyScript's env.abort)
//   cat             copies stdin to stdout until end of input
//   prompt          prints "ready", reads one line from stdin, prints "got <line>"
//   streams         writes to stdout and stderr, interleaved
//   files           prints the first preopen's guest path, reads in.txt from it and writes
//                   out.txt ("seen: " + the contents of in.txt)
// Raw imports only, so the module is what any WASI command looks like to the host.

import {
  args_get,
  args_sizes_get,
  environ_get,
  environ_sizes_get,
  fd_close,
  fd_fdstat_get,
  fd_prestat_dir_name,
  fd_prestat_get,
  fd_read,
  fd_write,
  path_open,
  proc_exit,
} from "./lib/wasi";

const SCRATCH = memory.data(64); // iovecs and out-parameters (a fdstat at +32)
const BUF_SIZE: u32 = 65536;
const BUF = memory.data(65536);
const FIRST_PREOPEN: u32 = 3;
const OFLAG_CREAT: u16 = 1;
const OFLAG_TRUNC: u16 = 8;
// fd_read | fd_seek | fd_tell | fd_filestat_get, and fd_write | fd_seek | fd_tell | fd_filestat_set_size
const RIGHTS_READ: u64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 21);
const RIGHTS_WRITE: u64 = (1 << 6) | (1 << 2) | (1 << 5) | (1 << 22);

function writeAll(fd: u32, ptr: usize, len: u32): void {
  while (len > 0) {
    store<usize>(SCRATCH, ptr);
    store<u32>(SCRATCH, len, 4);
    const err = fd_write(fd, SCRATCH, 1, SCRATCH + 8);
    if (err != 0) unreachable();
    const n = load<u32>(SCRATCH, 8);
    ptr += n;
    len -= n;
  }
}

function print(fd: u32, s: string): void {
  const b = String.UTF8.encode(s);
  writeAll(fd, changetype<usize>(b), <u32>b.byteLength);
}

/** One read into BUF; the byte count (0 at end of input). Exits 1 on an error. */
function readSome(fd: u32, max: u32): u32 {
  store<usize>(SCRATCH, BUF);
  store<u32>(SCRATCH, max, 4);
  const err = fd_read(fd, SCRATCH, 1, SCRATCH + 8);
  if (err != 0) fail("fd_read(" + fd.toString() + "): errno " + err.toString());
  return load<u32>(SCRATCH, 8);
}

function fail(message: string): void {
  print(2, message + "\n");
  proc_exit(1);
}

/** Decodes a WASI string list (args or environ): `count` NUL-terminated strings. */
function strings(count: u32, ptrs: usize): string[] {
  const out = new Array<string>();
  for (let i: u32 = 0; i < count; i++)
    out.push(String.UTF8.decodeUnsafe(load<usize>(ptrs + i * 4), 1 << 20, true));
  return out;
}

function args(): string[] {
  args_sizes_get(SCRATCH, SCRATCH + 4);
  const count = load<u32>(SCRATCH),
    size = load<u32>(SCRATCH, 4);
  const ptrs = heap.alloc(count * 4 + 4),
    buf = heap.alloc(size + 1);
  args_get(ptrs, buf);
  return strings(count, ptrs);
}

function environ(): string[] {
  environ_sizes_get(SCRATCH, SCRATCH + 4);
  const count = load<u32>(SCRATCH),
    size = load<u32>(SCRATCH, 4);
  const ptrs = heap.alloc(count * 4 + 4),
    buf = heap.alloc(size + 1);
  environ_get(ptrs, buf);
  return strings(count, ptrs);
}

function cat(): void {
  for (;;) {
    const n = readSome(0, BUF_SIZE);
    if (n == 0) return;
    writeAll(1, BUF, n);
  }
}

function prompt(): void {
  print(1, "ready\n");
  let line = "";
  for (;;) {
    const n = readSome(0, 1);
    if (n == 0 || load<u8>(BUF) == 0x0a) break;
    line += String.fromCharCode(load<u8>(BUF));
  }
  print(1, "got " + line + "\n");
}

function streams(): void {
  print(1, "out 1\n");
  print(2, "err 1\n");
  print(1, "out 2\n");
  print(2, "err 2\n");
}

/** Opens `name` in directory `dir`, asking (like wasi-libc's open) for the rights it needs that
 *  the directory can hand down. */
function openAt(dir: u32, name: string, oflags: u16, rights: u64): u32 {
  if (fd_fdstat_get(dir, SCRATCH + 32) != 0) fail("fd_fdstat_get failed");
  const inheriting = load<u64>(SCRATCH + 32, 16);
  const p = String.UTF8.encode(name);
  const err = path_open(
    dir,
    0,
    changetype<usize>(p),
    <u32>p.byteLength,
    oflags,
    rights & inheriting,
    inheriting,
    0,
    SCRATCH + 16,
  );
  if (err != 0) fail("open " + name + ": errno " + err.toString());
  return load<u32>(SCRATCH, 16);
}

function files(): void {
  if (fd_prestat_get(FIRST_PREOPEN, SCRATCH) != 0) return fail("no preopened directory");
  const len = load<u32>(SCRATCH, 4);
  fd_prestat_dir_name(FIRST_PREOPEN, BUF, len);
  print(1, "preopen: " + String.UTF8.decodeUnsafe(BUF, len) + "\n");
  const input = openAt(FIRST_PREOPEN, "in.txt", 0, RIGHTS_READ);
  const n = readSome(input, BUF_SIZE);
  fd_close(input);
  const output = openAt(FIRST_PREOPEN, "out.txt", OFLAG_CREAT | OFLAG_TRUNC, RIGHTS_WRITE);
  const prefix = String.UTF8.encode("seen: ");
  writeAll(output, changetype<usize>(prefix), <u32>prefix.byteLength);
  writeAll(output, BUF, n);
  fd_close(output);
  print(1, "wrote out.txt\n");
}

export function _start(): void {
  const argv = args();
  const mode = argv.length > 1 ? argv[1] : "";
  if (mode == "args") {
    for (let i = 0; i < argv.length; i++) print(1, argv[i] + "\n");
  } else if (mode == "env") {
    const env = environ();
    for (let i = 0; i < env.length; i++) print(1, env[i] + "\n");
  } else if (mode == "exit") {
    proc_exit(<u32>I32.parseInt(argv.length > 2 ? argv[2] : "0"));
  } else if (mode == "trap") {
    print(1, "before the trap\n");
    unreachable();
  } else if (mode == "abort") {
    assert(false, "the guest gave up");
  } else if (mode == "cat") {
    cat();
  } else if (mode == "prompt") {
    prompt();
  } else if (mode == "streams") {
    streams();
  } else if (mode == "files") {
    files();
  } else {
    fail("usage: cmd-tool args|env|exit N|trap|abort|cat|prompt|streams|files");
  }
}
