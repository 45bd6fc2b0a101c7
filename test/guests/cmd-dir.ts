// A WASI preview1 command for test/command-readdir.test.ts: what fd_readdir and fd_write on a
// bad fd answer, over raw wasi_snapshot_preview1 imports. The first argument picks:
//   readdir FD LEN [NAME...]  first creates each NAME in directory fd FD, then lists directory fd FD from cookie 0 with a LEN-byte buffer, calling again
//                    from the last whole entry's d_next until a call fills less than LEN:
//                    "NAME next N type T" per entry, then "calls C"; "readdir: errno E" on error,
//                    "buffer too small" when a full buffer holds no whole entry
//   probe            one line "CALL: errno E [value]" per call of a list of spec checks (below),
//                    for docs/WASI.md's table of differences
//   badwrite         fd_write of 1 byte on fds 99 and 0xFFFFFFFF: "fd F: errno E"

import {
  args,
  clock_res_get,
  clock_time_get,
  fd_fdstat_set_rights,
  fd_prestat_get,
  fd_readdir,
  fd_renumber,
  fd_write,
  path_create_directory,
  path_open,
  path_remove_directory,
  print,
  random_get,
  sched_yield,
} from "./lib/wasi";

const SCRATCH = memory.data(64, 8);
const BUF = memory.data(4096, 8);

/** Creates an empty file `name` in directory fd `dir` (O_CREAT). */
function touch(dir: u32, name: string): void {
  const path = String.UTF8.encode(name);
  const rights: u64 = (1 << 6) | (1 << 21); // fd_write, fd_filestat_get
  const len = <u32>path.byteLength;
  if (path_open(dir, 0, changetype<usize>(path), len, 1, rights, 0, 0, SCRATCH) != 0)
    print(1, `touch ${name} failed\n`);
}

function readdir(fd: u32, len: u32): void {
  let cookie: u64 = 0;
  let calls = 0;
  for (;;) {
    calls++;
    const err = fd_readdir(fd, BUF, len, cookie, SCRATCH);
    if (err != 0) return print(1, `readdir: errno ${err}\n`);
    const used = load<u32>(SCRATCH);
    let at: u32 = 0;
    while (at + 24 <= used) {
      const entry = BUF + at;
      const namlen = load<u32>(entry, 16);
      if (at + 24 + namlen > used) break; // cut short: read again from the last whole one
      const name = String.UTF8.decodeUnsafe(entry + 24, namlen);
      print(1, `${name} next ${load<u64>(entry)} type ${load<u8>(entry, 20)}\n`);
      cookie = load<u64>(entry);
      at += 24 + namlen;
    }
    if (used < len) break;
    if (at == 0) return print(1, "buffer too small\n"); // (a real program would grow it)
  }
  print(1, `calls ${calls}\n`);
}

function line(name: string, err: u16, value: string = ""): void {
  print(1, `${name}: errno ${err}${value}\n`);
}

function pathCall(fd: u32, name: string, create: bool): u16 {
  const b = String.UTF8.encode(name);
  const ptr = changetype<usize>(b);
  const len = <u32>b.byteLength;
  return create ? path_create_directory(fd, ptr, len) : path_remove_directory(fd, ptr, len);
}

/** Checks the spec states in so many words; DIR is a preopened directory fd. */
function probe(dir: u32): void {
  for (let id: u32 = 0; id < 5; id++) {
    const err = clock_res_get(id, SCRATCH);
    line(`clock_res_get ${id}`, err, err == 0 ? (load<u64>(SCRATCH) > 0 ? " > 0" : " = 0") : "");
  }
  line("clock_time_get 4", clock_time_get(4, 0, SCRATCH));
  line("fd_fdstat_set_rights add", fd_fdstat_set_rights(1, 0xffffffffffffffff, 0xffffffffffffffff));
  line("fd_prestat_get 0", fd_prestat_get(0, SCRATCH));
  line("fd_renumber to closed", fd_renumber(1, 99));
  line("sched_yield", sched_yield());
  line("random_get", random_get(BUF, 16));
  line("fd_readdir stdout", fd_readdir(1, BUF, 64, 0, SCRATCH));
  line("path_create_directory", pathCall(dir, "probe-d", true));
  line("path_create_directory again", pathCall(dir, "probe-d", true));
  line("path_create_directory ..", pathCall(dir, "../escape", true));
  touch(dir, "probe-d/f");
  line("path_remove_directory not empty", pathCall(dir, "probe-d", false));
}

function badwrite(): void {
  store<usize>(SCRATCH, BUF);
  store<u32>(SCRATCH, 1, 4);
  print(1, `fd 99: errno ${fd_write(99, SCRATCH, 1, SCRATCH + 8)}\n`);
  print(1, `fd 4294967295: errno ${fd_write(0xffffffff, SCRATCH, 1, SCRATCH + 8)}\n`);
}

export function _start(): void {
  const argv = args();
  const mode = argv.length > 1 ? argv[1] : "";
  if (mode == "readdir") {
    const fd = <u32>I32.parseInt(argv[2]);
    for (let i = 4; i < argv.length; i++) touch(fd, argv[i]);
    readdir(fd, <u32>I32.parseInt(argv[3]));
  } else if (mode == "badwrite") badwrite();
  else if (mode == "probe") probe(<u32>I32.parseInt(argv[2]));
  else print(2, "usage: cmd-dir readdir FD LEN|probe DIR|badwrite\n");
}
