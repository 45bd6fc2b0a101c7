// A WASI preview1 command for test/command-epoll.test.ts: poll_oneoff's epoll registrations
// kept across calls (host/command/ready.ts). Raw wasi_snapshot_preview1 imports only. Fd 3 is
// the preopened listener; the first argument picks what it does:
//   many N R    reads one byte of stdin (the test's "go", once N clients are waiting), accepts
//               N connections, then polls FD_READ on all N until R messages have come, echoing
//               each message back; prints "served R"
//   again       accepts one connection, polls FD_READ on it twice without reading in between
//               (the second time with a 2 s clock beside it): "ev TYPE nbytes N" per event;
//               then reads it: "read BYTES"
//   block       accepts two connections A and B, polls both with a 0 s clock ("ev ..."),
//               "blocking" on stderr, a blocking fd_read on A ("read A: BYTES"), then polls B
//               with a 2 s clock ("ev ...")
//   renumber    accepts A and B, polls both with a 0 s clock, fd_renumber(A, B) (B's socket is closed, A's is now fd B),
//               "renumbered" on stderr, polls fd B with a 2 s clock ("ev ...") and reads it
//   spin        "spinning" on stderr, then loops forever without calling the host
// Each of these makes two or three identical poll_oneoff calls with a change in between that
// poll_oneoff's fast path (host/command/poll.ts reclassify) must not miss; each event is
// printed as "ev U error E type T nbytes N flags F" (U: userdata):
//   same-close    accepts A, polls [A] until it hangs up, closes A, "closed" on stderr,
//                 accepts B (the same guest fd), polls [B] as before and reads it: "read BYTES"
//   same-limit    (run with -W max-connections=1) reads one byte of stdin (both clients are
//                 waiting), polls [listener, 300 ms]; accepts A; polls again (held back: the
//                 clock); closes A; polls again (the second client)
//   same-renumber accepts A and B, polls [A, B, 0 s], fd_renumber(A, B), "renumbered" on
//                 stderr, polls [A, B, 0 s] again (A is not open now), then reads B
//   same-clock    accepts A, polls [A, 300 ms] twice with nothing sent: "waited W ms" for each
//   same-block    accepts A and B, polls [A, B, 5 s], reads A, "blocking" on stderr, a
//                 blocking read on A ("read A: BYTES"), polls [A, B, 5 s] again

import {
  args,
  clock_time_get,
  fd_close,
  fd_read,
  fd_renumber,
  poll_oneoff,
  print,
  sock_accept,
  sock_send,
} from "./lib/wasi";

const MAX_SUBS = 1024;
const SUBS = memory.data(48 * MAX_SUBS, 8);
const EVENTS = memory.data(32 * MAX_SUBS, 8);
const SCRATCH = memory.data(64, 8);
const BUF_SIZE: u32 = 256;
const BUF = memory.data(BUF_SIZE);

/** Reads up to BUF_SIZE bytes of `fd` into BUF: the count (0 on error or at the end). */
function read(fd: u32): u32 {
  store<usize>(SCRATCH, BUF);
  store<u32>(SCRATCH, BUF_SIZE, 4);
  return fd_read(fd, SCRATCH, 1, SCRATCH + 8) == 0 ? load<u32>(SCRATCH, 8) : 0;
}

function send(fd: u32, len: u32): void {
  store<usize>(SCRATCH, BUF);
  store<u32>(SCRATCH, len, 4);
  sock_send(fd, SCRATCH, 1, 0, SCRATCH + 8);
}

function accept(): u32 {
  if (sock_accept(3, 0, SCRATCH + 16) != 0) unreachable();
  return load<u32>(SCRATCH, 16);
}

/** Subscription `i`: FD_READ on `fd`, userdata = fd. */
function subscribe(i: i32, fd: u32): void {
  const sub = SUBS + <usize>i * 48;
  memory.fill(sub, 0, 48);
  store<u64>(sub, fd);
  store<u8>(sub, 1, 8);
  store<u32>(sub, fd, 16);
}

/** Subscription `i`: a relative monotonic clock of `ns`, userdata 0xc10c. */
function clock(i: i32, ns: u64): void {
  const sub = SUBS + <usize>i * 48;
  memory.fill(sub, 0, 48);
  store<u64>(sub, 0xc10c);
  store<u32>(sub, 1, 16);
  store<u64>(sub, ns, 24);
}

/** Subscriptions 0 to 2: FD_READ on `a` and on `b`, and a clock of `ns`. */
function subscribePair(a: u32, b: u32, ns: u64): void {
  subscribe(0, a);
  subscribe(1, b);
  clock(2, ns);
}

/** poll_oneoff over the first `count` subscriptions: the number of events. */
function poll(count: i32): u32 {
  if (poll_oneoff(SUBS, EVENTS, count, SCRATCH + 24) != 0) unreachable();
  return load<u32>(SCRATCH, 24);
}

function printEvents(n: u32): void {
  for (let e: u32 = 0; e < n; e++) {
    const ev = EVENTS + <usize>e * 32;
    print(1, `ev ${load<u8>(ev, 10)} nbytes ${load<u64>(ev, 16)}\n`);
  }
}

function many(n: i32, rounds: i32): void {
  read(0);
  const conns = new Array<u32>();
  for (let i = 0; i < n; i++) conns.push(accept());
  let served = 0;
  while (served < rounds) {
    for (let i = 0; i < n; i++) subscribe(i, conns[i]);
    const events = poll(n);
    for (let e: u32 = 0; e < events; e++) {
      const fd = <u32>load<u64>(EVENTS + <usize>e * 32);
      const got = read(fd);
      if (got > 0) send(fd, got);
      served++;
    }
  }
  print(1, `served ${served}\n`);
}

function again(): void {
  const fd = accept();
  subscribe(0, fd);
  printEvents(poll(1));
  clock(1, 2_000_000_000);
  printEvents(poll(2));
  const got = read(fd);
  print(1, `read ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
}

function block(): void {
  const a = accept();
  const b = accept();
  subscribePair(a, b, 0);
  printEvents(poll(3));
  print(2, "blocking\n");
  const got = read(a);
  print(1, `read A: ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
  subscribe(0, b);
  clock(1, 2_000_000_000);
  printEvents(poll(2));
}

function renumber(): void {
  const a = accept();
  const b = accept();
  subscribePair(a, b, 0);
  poll(3); // both registered with epoll now
  if (fd_renumber(a, b) != 0) unreachable();
  print(2, "renumbered\n");
  subscribe(0, b);
  clock(1, 2_000_000_000);
  printEvents(poll(2));
  const got = read(b);
  print(1, `read ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
}

function printFull(n: u32): void {
  for (let e: u32 = 0; e < n; e++) {
    const ev = EVENTS + <usize>e * 32;
    const head = `ev ${load<u64>(ev)} error ${load<u16>(ev, 8)} type ${load<u8>(ev, 10)}`;
    print(1, `${head} nbytes ${load<u64>(ev, 16)} flags ${load<u16>(ev, 24)}\n`);
  }
}

function sameClose(): void {
  const a = accept();
  subscribe(0, a);
  printFull(poll(1)); // the peer has gone: hangup
  if (fd_close(a) != 0) unreachable();
  print(2, "closed\n");
  const b = accept();
  if (b != a) print(1, `new fd ${b}\n`);
  subscribe(0, b);
  printFull(poll(1));
  const got = read(b);
  print(1, `read ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
}

function sameLimit(): void {
  read(0);
  subscribe(0, 3);
  clock(1, 300_000_000);
  printFull(poll(2));
  const a = accept();
  printFull(poll(2));
  if (fd_close(a) != 0) unreachable();
  printFull(poll(2));
}

function sameRenumber(): void {
  const a = accept();
  const b = accept();
  subscribePair(a, b, 0);
  printFull(poll(3));
  if (fd_renumber(a, b) != 0) unreachable();
  print(2, "renumbered\n");
  printFull(poll(3));
  const got = read(b);
  print(1, `read ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
}

function monotonicMs(): u64 {
  if (clock_time_get(1, 0, SCRATCH + 32) != 0) unreachable();
  return load<u64>(SCRATCH, 32) / 1_000_000;
}

function sameClock(): void {
  const a = accept();
  subscribe(0, a);
  clock(1, 300_000_000);
  for (let round = 0; round < 2; round++) {
    const start = monotonicMs();
    printFull(poll(2));
    print(1, `waited ${monotonicMs() - start >= 300 ? "300 ms or more" : "less"}\n`);
  }
}

function sameBlock(): void {
  const a = accept();
  const b = accept();
  subscribePair(a, b, 5_000_000_000);
  printFull(poll(3));
  read(a);
  print(2, "blocking\n");
  const got = read(a);
  print(1, `read A: ${String.UTF8.decodeUnsafe(BUF, got)}\n`);
  printFull(poll(3));
}

function spin(): void {
  print(2, "spinning\n");
  let i: u32 = 0;
  while (load<u32>(SCRATCH, 60) == 0) store<u32>(SCRATCH, i++, 56); // never ends: 60 stays 0
}

export function _start(): void {
  const argv = args();
  const mode = argv.length > 1 ? argv[1] : "";
  if (mode == "many") many(I32.parseInt(argv[2]), I32.parseInt(argv[3]));
  else if (mode == "again") again();
  else if (mode == "block") block();
  else if (mode == "renumber") renumber();
  else if (mode == "spin") spin();
  else if (mode == "same-close") sameClose();
  else if (mode == "same-limit") sameLimit();
  else if (mode == "same-renumber") sameRenumber();
  else if (mode == "same-clock") sameClock();
  else if (mode == "same-block") sameBlock();
  else print(2, "usage: cmd-pollmany many N R|again|block|renumber|spin|same-*\n");
}
