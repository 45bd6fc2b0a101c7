// A WASI preview1 command that serves on listeners the host preopens (`wasmloop run
// --tcplisten`), for test/command-net.test.ts and test/command-net-errno.test.ts. Raw
// wasi_snapshot_preview1 imports only, as a C or Rust program's would be. The first argument
// picks what it does:
//   prestat N   for fds 3 .. 3+N: "fd F: prestat E type T flags G" (fd_prestat_get's errno,
//               fd_fdstat_get's filetype and flags; type 255 when fd_fdstat_get failed)
//   errnos      one line "CALL: E" per call of a fixed list (below) on the listener at fd 3,
//               stdout (fd 1) and a descriptor that is not open (99)
//   echo N      a poll_oneoff echo server on fd 3 (set non-blocking): accepts every waiting
//               connection, echoes what each sends, closes it at end of input; after N have
//               ended prints "served N" and returns. "polling" on stderr before the first poll
//   conn        blocking accept on fd 3, then: RECV_PEEK of 5 bytes ("peek N: BYTES"),
//               RECV_WAITALL of 10 ("waitall N: BYTES"), sock_send "pong" ("sent N"),
//               sock_shutdown WR ("shutdown E"), fd_read to the end ("eof"), fd_close
//   pollconn    blocking accept on fd 3, then poll_oneoff FD_READ + FD_WRITE on it (events as
//               "ev TYPE: error E nbytes N flags F"), fd_read ("read N"), "waiting" on stderr,
//               and one more FD_READ poll (the client then shuts down: hangup)
//   fill        accepts on fd 3 (non-blocking), sends until EAGAIN ("full"), "waiting" on
//               stderr, then polls FD_WRITE on it with a 1 s clock (events as for pollconn)
//   open D      path_open "in.txt" in directory fd D, fd_read it, fd_close it, fd_fdstat_get
//               it again: "open E fd F: BYTES", "close E", "fdstat E"
//   accept      "accepting" on stderr, then a blocking sock_accept on fd 3
//   read        blocking accept on fd 3, "reading" on stderr, then a blocking fd_read on it

import {
  args,
  fd_close,
  fd_fdstat_get,
  fd_fdstat_set_flags,
  fd_filestat_get,
  fd_prestat_get,
  fd_read,
  fd_seek,
  path_open,
  poll_oneoff,
  print,
  sock_accept,
  sock_recv,
  sock_send,
  sock_shutdown,
} from "./lib/wasi";

const SCRATCH = memory.data(64, 8);
const BUF_SIZE: u32 = 4096;
const BUF = memory.data(BUF_SIZE);
const MAX_SUBS = 64;
const SUBS = memory.data(48 * MAX_SUBS, 8);
const EVENTS = memory.data(32 * MAX_SUBS, 8);
const STAT = memory.data(64, 8);
const LISTENER: u32 = 3;
const NONBLOCK: u16 = 4;

/** One iovec over BUF at SCRATCH+32; its count word at SCRATCH+40. */
function iov(len: u32): usize {
  store<usize>(SCRATCH, BUF, 32);
  store<u32>(SCRATCH, len, 36);
  return SCRATCH + 32;
}

function recv(fd: u32, len: u32, flags: u16): u16 {
  return sock_recv(fd, iov(len), 1, flags, SCRATCH + 40, SCRATCH + 44);
}

function got(): u32 {
  return load<u32>(SCRATCH, 40);
}

function send(fd: u32, len: u32): u16 {
  return sock_send(fd, iov(len), 1, 0, SCRATCH + 40);
}

function accept(flags: u16): u32 {
  const err = sock_accept(LISTENER, flags, SCRATCH + 48);
  if (err != 0) print(1, "accept: errno " + err.toString() + "\n");
  return err == 0 ? load<u32>(SCRATCH, 48) : 0xffffffff;
}

function prestat(n: u32): void {
  for (let fd = LISTENER; fd < LISTENER + n; fd++) {
    const err = fd_prestat_get(fd, SCRATCH);
    const stat = fd_fdstat_get(fd, SCRATCH + 16);
    const type = stat == 0 ? load<u8>(SCRATCH, 16) : 255;
    const flags = stat == 0 ? load<u16>(SCRATCH, 18) : 0;
    print(1, `fd ${fd}: prestat ${err} type ${type} flags ${flags}\n`);
  }
}

function line(name: string, err: u16): void {
  print(1, name + ": " + err.toString() + "\n");
}

function errnos(): void {
  line("sock_accept bad fd", sock_accept(99, 0, SCRATCH));
  line("sock_accept stdout", sock_accept(1, 0, SCRATCH));
  line("sock_accept bad flags", sock_accept(LISTENER, 2, SCRATCH));
  line("fd_fdstat_set_flags nonblock", fd_fdstat_set_flags(LISTENER, NONBLOCK));
  line("sock_accept none waiting", sock_accept(LISTENER, 0, SCRATCH));
  line("sock_recv bad fd", recv(99, 4, 0));
  line("sock_recv stdout", recv(1, 4, 0));
  line("sock_recv bad flags", recv(LISTENER, 4, 4));
  line("sock_recv listener", recv(LISTENER, 4, 0));
  line("sock_send bad fd", send(99, 4));
  line("sock_send stdout", send(1, 4));
  line("sock_shutdown bad fd", sock_shutdown(99, 3));
  line("sock_shutdown stdout", sock_shutdown(1, 3));
  line("sock_shutdown how 0", sock_shutdown(LISTENER, 0));
  line("sock_shutdown how 4", sock_shutdown(LISTENER, 4));
  line("fd_fdstat_get", fd_fdstat_get(LISTENER, STAT));
  line("  filetype", load<u8>(STAT));
  line("  flags", load<u16>(STAT, 2));
  line("fd_fdstat_set_flags append", fd_fdstat_set_flags(LISTENER, 1));
  fd_fdstat_get(LISTENER, STAT);
  line("  flags", load<u16>(STAT, 2));
  line("fd_fdstat_set_flags 0", fd_fdstat_set_flags(LISTENER, 0));
  fd_fdstat_get(LISTENER, STAT);
  line("  flags", load<u16>(STAT, 2));
  line("fd_filestat_get", fd_filestat_get(LISTENER, STAT));
  line("  filetype", load<u8>(STAT, 16));
  line("fd_seek", fd_seek(LISTENER, 0, 0, SCRATCH));
  line("fd_prestat_get", fd_prestat_get(LISTENER, SCRATCH));
  line("fd_close", fd_close(LISTENER));
  line("fd_close again", fd_close(LISTENER));
  line("sock_accept closed", sock_accept(LISTENER, 0, SCRATCH));
  line("fd_fdstat_get bad fd", fd_fdstat_get(99, SCRATCH));
}

/** Subscription `i`: FD_READ (type 1) or FD_WRITE (2) on `fd`, userdata = type << 32 | fd. */
function subscribe(i: i32, fd: u32, type: u8): void {
  const sub = SUBS + <usize>i * 48;
  memory.fill(sub, 0, 48);
  store<u64>(sub, ((<u64>type) << 32) | fd);
  store<u8>(sub, type, 8);
  store<u32>(sub, fd, 16);
}

function echo(target: i32): void {
  fd_fdstat_set_flags(LISTENER, NONBLOCK);
  const conns = new Array<u32>();
  let ended = 0;
  print(2, "polling\n");
  while (ended < target) {
    subscribe(0, LISTENER, 1);
    for (let i = 0; i < conns.length; i++) subscribe(i + 1, conns[i], 1);
    const err = poll_oneoff(SUBS, EVENTS, conns.length + 1, SCRATCH + 56);
    if (err != 0) return print(1, "poll: errno " + err.toString() + "\n");
    for (let e: u32 = 0; e < load<u32>(SCRATCH, 56); e++) {
      const fd = <u32>load<u64>(EVENTS + <usize>e * 32);
      if (fd == LISTENER) {
        while (sock_accept(LISTENER, 0, SCRATCH + 48) == 0) conns.push(load<u32>(SCRATCH, 48));
        continue;
      }
      if (recv(fd, BUF_SIZE, 0) == 0 && got() > 0 && send(fd, got()) == 0) continue;
      fd_close(fd);
      conns.splice(conns.indexOf(fd), 1);
      ended++;
    }
  }
  print(1, "served " + ended.toString() + "\n");
}

function conn(): void {
  const fd = accept(0);
  print(1, "accepted\n");
  let err = recv(fd, 5, 1);
  print(1, `peek ${got()}: ${String.UTF8.decodeUnsafe(BUF, got())} (errno ${err})\n`);
  err = recv(fd, 10, 2);
  print(1, `waitall ${got()}: ${String.UTF8.decodeUnsafe(BUF, got())} (errno ${err})\n`);
  store<u32>(BUF, 0x676e6f70); // "pong"
  err = send(fd, 4);
  print(1, `sent ${load<u32>(SCRATCH, 40)} (errno ${err})\n`);
  print(1, `shutdown ${sock_shutdown(fd, 2)}\n`);
  while (fd_read(fd, iov(BUF_SIZE), 1, SCRATCH + 40) == 0 && got() > 0);
  print(1, "eof\n");
  fd_close(fd);
}

function printPoll(count: i32): void {
  const err = poll_oneoff(SUBS, EVENTS, count, SCRATCH + 56);
  if (err != 0) return print(1, "poll: errno " + err.toString() + "\n");
  for (let e: u32 = 0; e < load<u32>(SCRATCH, 56); e++) {
    const ev = EVENTS + <usize>e * 32;
    const what = `ev ${load<u8>(ev, 10)}: error ${load<u16>(ev, 8)}`;
    print(1, `${what} nbytes ${load<u64>(ev, 16)} flags ${load<u16>(ev, 24)}\n`);
  }
}

function pollconn(): void {
  const fd = accept(0);
  subscribe(0, fd, 1);
  subscribe(1, fd, 2);
  printPoll(2);
  fd_read(fd, iov(BUF_SIZE), 1, SCRATCH + 40);
  print(1, `read ${got()}\n`);
  print(2, "waiting\n");
  subscribe(0, fd, 1);
  printPoll(1);
  fd_close(fd);
}

function fill(): void {
  const fd = accept(NONBLOCK);
  while (send(fd, BUF_SIZE) == 0);
  print(1, "full\n");
  print(2, "waiting\n");
  subscribe(0, fd, 2);
  const clock = SUBS + 48;
  memory.fill(clock, 0, 48);
  store<u32>(clock, 1, 16); // monotonic, relative
  store<u64>(clock, 1_000_000_000, 24);
  printPoll(2);
  fd_close(fd);
}

function open(dir: u32): void {
  const name = String.UTF8.encode("in.txt");
  const rights: u64 = (1 << 1) | (1 << 21); // fd_read, fd_filestat_get
  const err = path_open(dir, 0, changetype<usize>(name), 6, 0, rights, 0, 0, STAT);
  const fd = load<u32>(STAT);
  fd_read(fd, iov(BUF_SIZE), 1, SCRATCH + 40);
  print(1, `open ${err} fd ${fd}: ${String.UTF8.decodeUnsafe(BUF, got())}\n`);
  print(1, `close ${fd_close(fd)}\n`);
  print(1, `fdstat ${fd_fdstat_get(fd, STAT)}\n`);
}

export function _start(): void {
  const argv = args();
  const mode = argv.length > 1 ? argv[1] : "";
  const n = argv.length > 2 ? I32.parseInt(argv[2]) : 0;
  if (mode == "prestat") prestat(<u32>n);
  else if (mode == "errnos") errnos();
  else if (mode == "echo") echo(n);
  else if (mode == "conn") conn();
  else if (mode == "pollconn") pollconn();
  else if (mode == "fill") fill();
  else if (mode == "open") open(<u32>n);
  else if (mode == "accept") {
    print(2, "accepting\n");
    accept(0);
  } else if (mode == "read") {
    const fd = accept(0);
    print(2, "reading\n");
    fd_read(fd, iov(BUF_SIZE), 1, SCRATCH + 40);
  } else print(2, "usage: cmd-net prestat N|errnos|echo N|conn|pollconn|fill|open D|accept|read\n");
}
