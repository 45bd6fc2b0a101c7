// A WASI preview1 command module for test/command-poll.test.ts: it calls fd_write and
// poll_oneoff with the raw arguments the test names, and prints what came back, so the test
// can hold both backends to the preview1 spec. Its first argument picks what it does:
//   write FD...      fd_write("x") to each FD (decimal, any u32): prints "fd FD: errno E"
//   poll SUB...      one poll_oneoff over the subscriptions (none at all is allowed: the spec
//                    says EINVAL), then "poll: errno E, N events" and one line per event:
//                    "sub I: error E type T nbytes N flags F". SUB is one of
//                      read:FD  write:FD      FD_READ / FD_WRITE on FD
//                      clock:ID:NS            a clock ID timeout NS from now (relative)
//                      abs:ID:NS              the same, as an absolute time (clock_time_get + NS)
//                      tag:T                  a subscription with event type T (invalid if > 2)
//                    and "close:FD" (not a subscription) first closes FD with fd_close.
//                    A last argument "then-read" reads fd 0 once afterwards and prints
//                    "read N: <bytes>", to show that polling consumed nothing. "polling" goes
//                    to stderr just before the call, so a test knows the guest is in it.
//   poll-many N      one poll_oneoff over N fd_write subscriptions on fd 1: "poll N: errno E,
//                    M events"
//   poll-overlap     "abs:1:0 write:1" with the events 56 bytes after the subscriptions, so
//                    event 0 lies over subscription 1's type: printed as for poll
//   poll-fault       poll_oneoff with `in` and `out` ranges that wrap around 2^32: EFAULT
//   clocks           clock_time_get for each of the four clock ids: "clock I: errno E"
// Subscription I carries userdata USERDATA_BASE + I; an event whose userdata is not one of
// those is printed as "sub ?" (the high half checks that all 64 bits come back).

import { args, clock_time_get, fd_close, fd_read, fd_write, poll_oneoff, print } from "./lib/wasi";

const SCRATCH = memory.data(64, 8);
const BUF = memory.data(4096);
const MAX_SUBS = 16;
const SUBS = memory.data(48 * MAX_SUBS, 8);
const EVENTS = memory.data(32 * MAX_SUBS, 8);
const USERDATA_BASE: u64 = 0xa5a5_0000_0000_0000;

function writeTo(fds: string[]): void {
  for (let i = 0; i < fds.length; i++) {
    const fd = <u32>I64.parseInt(fds[i]);
    store<usize>(SCRATCH, BUF);
    store<u32>(SCRATCH, 1, 4);
    store<u8>(BUF, 0x78);
    const err = fd_write(fd, SCRATCH, 1, SCRATCH + 8);
    print(1, "fd " + fd.toString() + ": errno " + err.toString() + "\n");
  }
}

/** Fills subscription `i` from `spec` (see the header). */
function subscribe(i: i32, spec: string): void {
  const sub = SUBS + <usize>i * 48;
  memory.fill(sub, 0, 48);
  store<u64>(sub, USERDATA_BASE + <u64>i);
  const parts = spec.split(":");
  const kind = parts[0];
  if (kind == "read" || kind == "write") {
    store<u8>(sub, kind == "read" ? 1 : 2, 8);
    store<u32>(sub, <u32>I64.parseInt(parts[1]), 16);
  } else if (kind == "clock" || kind == "abs") {
    const id = <u32>I64.parseInt(parts[1]);
    let timeout = <u64>I64.parseInt(parts[2]);
    if (kind == "abs") {
      if (clock_time_get(id, 0, SCRATCH + 16) != 0) print(1, "clock_time_get failed\n");
      timeout += load<u64>(SCRATCH, 16);
    }
    store<u8>(sub, 0, 8);
    store<u32>(sub, id, 16);
    store<u64>(sub, timeout, 24);
    store<u16>(sub, kind == "abs" ? 1 : 0, 40);
  } else if (kind == "tag") {
    store<u8>(sub, <u8>I64.parseInt(parts[1]), 8);
  } else {
    print(2, "bad subscription " + spec + "\n");
    unreachable();
  }
}

function printEvents(err: u16, count: u32, events: usize = EVENTS): void {
  print(1, "poll: errno " + err.toString() + ", " + count.toString() + " events\n");
  if (err != 0) return;
  for (let i: u32 = 0; i < count; i++) {
    const ev = events + <usize>i * 32;
    const userdata = load<u64>(ev);
    const which =
      userdata - USERDATA_BASE < <u64>MAX_SUBS ? (userdata - USERDATA_BASE).toString() : "?";
    print(
      1,
      "sub " +
        which +
        ": error " +
        load<u16>(ev, 8).toString() +
        " type " +
        load<u8>(ev, 10).toString() +
        " nbytes " +
        load<u64>(ev, 16).toString() +
        " flags " +
        load<u16>(ev, 24).toString() +
        "\n",
    );
  }
}

function readOnce(): void {
  store<usize>(SCRATCH, BUF);
  store<u32>(SCRATCH, 4096, 4);
  const err = fd_read(0, SCRATCH, 1, SCRATCH + 8);
  const n = load<u32>(SCRATCH, 8);
  print(
    1,
    err != 0
      ? "read: errno " + err.toString() + "\n"
      : "read " + n.toString() + ": " + String.UTF8.decodeUnsafe(BUF, n) + "\n",
  );
}

function poll(args: string[]): void {
  const specs = new Array<string>();
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("close:")) fd_close(<u32>I64.parseInt(args[i].slice(6)));
    else specs.push(args[i]);
  }
  let count = specs.length;
  const thenRead = count > 0 && specs[count - 1] == "then-read";
  if (thenRead) count--;
  if (count > MAX_SUBS) unreachable();
  for (let i = 0; i < count; i++) subscribe(i, specs[i]);
  print(2, "polling\n");
  store<u32>(SCRATCH, 0xffff, 8);
  const err = poll_oneoff(SUBS, EVENTS, <u32>count, SCRATCH + 8);
  printEvents(err, load<u32>(SCRATCH, 8));
  if (thenRead) readOnce();
}

function pollOverlap(): void {
  subscribe(0, "abs:1:0");
  subscribe(1, "write:1");
  const err = poll_oneoff(SUBS, SUBS + 56, 2, SCRATCH + 8);
  printEvents(err, load<u32>(SCRATCH, 8), SUBS + 56);
}

function pollFault(): void {
  subscribe(0, "write:1");
  // One subscription (48 bytes) at 2^32 - 16: in 32-bit arithmetic the end wraps to 32.
  const err = poll_oneoff(<usize>0xffff_fff0, EVENTS, 1, SCRATCH + 8);
  print(1, "in wraps: errno " + err.toString() + "\n");
  const err2 = poll_oneoff(SUBS, <usize>0xffff_fff0, 1, SCRATCH + 8);
  print(1, "out wraps: errno " + err2.toString() + "\n");
}

function pollMany(n: u32): void {
  const subs = heap.alloc(<usize>n * 48),
    events = heap.alloc(<usize>n * 32);
  memory.fill(subs, 0, <usize>n * 48);
  for (let i: u32 = 0; i < n; i++) {
    store<u8>(subs + <usize>i * 48, 2, 8);
    store<u32>(subs + <usize>i * 48, 1, 16);
  }
  store<u32>(SCRATCH, 0xffff, 8);
  const err = poll_oneoff(subs, events, n, SCRATCH + 8);
  print(
    1,
    "poll " +
      n.toString() +
      ": errno " +
      err.toString() +
      ", " +
      load<u32>(SCRATCH, 8).toString() +
      " events\n",
  );
}

function clocks(): void {
  for (let id: u32 = 0; id < 4; id++) {
    print(
      1,
      "clock " + id.toString() + ": errno " + clock_time_get(id, 0, SCRATCH + 16).toString() + "\n",
    );
  }
}

export function _start(): void {
  const argv = args();
  const mode = argv.length > 1 ? argv[1] : "";
  const rest = argv.length > 2 ? argv.slice(2) : new Array<string>();
  if (mode == "write") writeTo(rest);
  else if (mode == "poll") poll(rest);
  else if (mode == "poll-fault") pollFault();
  else if (mode == "poll-overlap") pollOverlap();
  else if (mode == "poll-many") pollMany(<u32>I64.parseInt(rest[0]));
  else if (mode == "clocks") clocks();
  else
    print(
      2,
      "usage: cmd-poll write FD...|poll SUB... [then-read]|poll-many N|poll-overlap|poll-fault|clocks\n",
    );
}
