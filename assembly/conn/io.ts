// Batched I/O, the only way the core receives and sends (docs/ABI.md, recv_many/send_many).
//
// A readable connection's recv is queued as a record (handle, where, room); receiveBatch makes
// every queued recv in one recv_many. A connection with output owed is queued for the send
// batch, whose records are written from its output when sendBatch makes them, in one
// send_many. A send that cannot wait for the batch (part of the input is used and the output
// must make room first, a drain round) is a batch of one (sendOne). The results are taken
// into connection state here (takeReceived, takeSent), before any protocol code runs, so a
// trap in one connection's code never loses what the host read or wrote for another.
//
// A connection without input of its own receives into RECV_AREA, where the host packs the
// tick's recvs; one the area has no full BUF_SIZE left for gets -EAGAIN, and level-triggered
// epoll reports it readable again next time.

import { wl_recv_many, wl_send_many } from "../abi";
import { EAGAIN } from "../errno";
import { BUF_SIZE, RECV_AREA, RECV_AREA_SIZE } from "../pool";
import { count, BYTES_IN, BYTES_OUT } from "../stats";
import { borrowed, compactInput, conn, dropOutput, Conn, Queued, State } from "./table";
import { restartTimer, touch } from "./timers";

/** Records per batch. A connection has at most one record in each, and only connections with
 *  an event in the ring are queued, so this is at least loop.ts EVENTS_CAP. */
export const IO_MAX: i32 = 256;
const IO_RECORD: usize = 16; // i32 handle, u32 buf, u32 len, i32 result

const recvRecords: usize = memory.data(IO_MAX * <i32>IO_RECORD, 16);
const recvSlots: usize = memory.data(IO_MAX * 4, 4);
let recvCount: i32 = 0;

// Two lists of (slot, handle), swapped by sendBatch: connections queue into one while the
// turns of the batch just made are read from the other.
let sendQueue: usize = memory.data(IO_MAX * 8, 4);
let sendQueueLen: i32 = 0;
let turnQueue: usize = memory.data(IO_MAX * 8, 4);
let turnCount: i32 = 0;
const sendRecords: usize = memory.data(IO_MAX * <i32>IO_RECORD, 16);
const sendSlots: usize = memory.data(IO_MAX * 4, 4);
let sendCount: i32 = 0;
const oneRecord: usize = memory.data(<i32>IO_RECORD, 16);

function record(
  records: usize,
  slots: usize,
  i: i32,
  handle: i32,
  buf: usize,
  len: i32,
  slot: u32,
): void {
  const rec = records + <usize>i * IO_RECORD;
  store<i32>(rec, handle);
  store<u32>(rec, <u32>buf, 4);
  store<i32>(rec, len, 8);
  store<u32>(slots + ((<usize>i) << 2), slot);
}

/** Each record fails with `rc` when the call as a whole failed (only if the records or the
 *  area were out of memory). */
function failAll(records: usize, n: i32, rc: i32): void {
  if (rc < 0) for (let i = 0; i < n; i++) store<i32>(records + <usize>i * IO_RECORD, rc, 12);
}

/** The connection a record was made for, or null if it has closed since. */
function live(slot: u32, handle: i32): Conn | null {
  const c = conn(slot);
  return c.state == State.FREE || c.handle != handle ? null : c;
}

// ---- Receiving ----

/** Queues the recv of a readable connection: onto the end of its own input if it holds some,
 *  else into the shared area (buf 0). False when its input buffer is full. A full batch
 *  queues nothing: the socket stays readable and the next epoll_wait reports it again. */
export function queueRecv(c: Conn, slot: u32): bool {
  if ((c.queued & Queued.RECV) != 0 || recvCount == IO_MAX) return true;
  let at: usize = 0;
  let room = BUF_SIZE;
  if (c.inBuf != 0) {
    compactInput(c);
    at = c.inBuf + <usize>c.inEnd;
    room = BUF_SIZE - c.inEnd;
    if (room == 0) return false;
  }
  c.queued |= Queued.RECV;
  record(recvRecords, recvSlots, recvCount++, c.handle, at, room, slot);
  return true;
}

/** Makes every queued recv in one recv_many and takes each result into its connection's
 *  state. Returns the number of records, for receivedConn / receivedResult. */
export function receiveBatch(): i32 {
  const n = recvCount;
  recvCount = 0;
  if (n == 0) return 0;
  failAll(recvRecords, n, wl_recv_many(recvRecords, n, RECV_AREA, RECV_AREA_SIZE));
  for (let i = 0; i < n; i++) {
    const c = receivedConn(i);
    if (c === null) continue;
    c.queued &= ~Queued.RECV;
    takeReceived(c, <usize>load<u32>(recvRecords + <usize>i * IO_RECORD, 4), receivedResult(i));
  }
  return n;
}

/** The slot of receive record `i` (its connection is receivedConn's, if that is not null). */
// @ts-ignore: decorator
@inline export function receivedSlot(i: i32): u32 {
  return load<u32>(recvSlots + ((<usize>i) << 2));
}

/** The connection of receive record `i`, or null if it has closed since. */
export function receivedConn(i: i32): Conn | null {
  return live(
    load<u32>(recvSlots + ((<usize>i) << 2)),
    load<i32>(recvRecords + <usize>i * IO_RECORD),
  );
}

// @ts-ignore: decorator
@inline export function receivedResult(i: i32): i32 {
  return load<i32>(recvRecords + <usize>i * IO_RECORD, 12);
}

/** A recv's `n` bytes at `buf` become the connection's input (LINGER discards them). */
function takeReceived(c: Conn, buf: usize, n: i32): void {
  if (n <= 0) return;
  count(BYTES_IN, <u64>n);
  if (c.state == State.LINGER) return; // discarded: we only wait for the peer's EOF
  touch(c);
  if (borrowed(buf)) {
    c.inBuf = buf;
    c.inStart = 0;
    c.inEnd = n;
  } else c.inEnd += n;
}

// ---- Sending ----

/** Queues a connection for the next send batch: its output is sent then, and its turn goes
 *  on (machine.ts afterSend) even if it owes nothing. False when the queue is full. */
export function queueSend(c: Conn, slot: u32): bool {
  if ((c.queued & Queued.SEND) != 0) return true;
  if (sendQueueLen == IO_MAX) return false;
  c.queued |= Queued.SEND;
  const at = sendQueue + ((<usize>sendQueueLen) << 3);
  sendQueueLen++;
  store<u32>(at, slot);
  store<i32>(at, c.handle, 4);
  return true;
}

export function hasQueuedSends(): bool {
  return sendQueueLen > 0;
}

/** Takes the queue (turnConn lists it) and makes the sends of those that owe output in one
 *  send_many. Returns the number of send records (sentConn, sentResult); the caller takes
 *  every result into state (takeSent) before it runs any protocol code. */
export function sendBatch(): i32 {
  const made = sendQueue;
  sendQueue = turnQueue;
  turnQueue = made;
  turnCount = sendQueueLen;
  sendQueueLen = 0;
  sendCount = 0;
  for (let t = 0; t < turnCount; t++) {
    const c = turnConn(t);
    if (c === null) continue;
    c.queued &= ~Queued.SEND;
    if (c.outEnd == c.outStart) continue;
    const slot = load<u32>(turnQueue + ((<usize>t) << 3));
    record(
      sendRecords,
      sendSlots,
      sendCount++,
      c.handle,
      c.outBuf + <usize>c.outStart,
      c.outEnd - c.outStart,
      slot,
    );
  }
  if (sendCount > 0) failAll(sendRecords, sendCount, wl_send_many(sendRecords, sendCount));
  return sendCount;
}

/** Entries of the send batch just made, with or without a record. */
export function turns(): i32 {
  return turnCount;
}
export function turnConn(t: i32): Conn | null {
  const at = turnQueue + ((<usize>t) << 3);
  return live(load<u32>(at), load<i32>(at, 4));
}

/** The slot of turn `t` (its connection is turnConn's, if that is not null). */
// @ts-ignore: decorator
@inline export function turnSlot(t: i32): u32 {
  return load<u32>(turnQueue + ((<usize>t) << 3));
}

/** Takes every result of the send batch just made into its connection's state (takeSent).
 *  Nothing has run since sendBatch made the records, each from a live connection, so a
 *  record's connection is its slot's without a check. True when a send failed: sendFailed
 *  names those connections, to be closed once every result is taken. */
export function takeSentBatch(n: i32): bool {
  let failed = false;
  for (let i = 0; i < n; i++) {
    const c = conn(load<u32>(sendSlots + ((<usize>i) << 2)));
    if (!takeSent(c, sentResult(i))) failed = true;
  }
  return failed;
}

/** The connection of send record `i`, or null if it has closed since. */
function sentConn(i: i32): Conn | null {
  return live(
    load<u32>(sendSlots + ((<usize>i) << 2)),
    load<i32>(sendRecords + <usize>i * IO_RECORD),
  );
}

/** The connection of send record `i` if its send failed and it is still open, else null. */
export function sendFailed(i: i32): Conn | null {
  const r = sentResult(i);
  return r < 0 && r != -EAGAIN ? sentConn(i) : null;
}

// @ts-ignore: decorator
@inline export function sentResult(i: i32): i32 {
  return load<i32>(sendRecords + <usize>i * IO_RECORD, 12);
}

/** Sends the connection's output now, a batch of one. False when the send failed (the caller
 *  closes the connection). */
export function sendOne(c: Conn): bool {
  const len = c.outEnd - c.outStart;
  if (len == 0) return true;
  store<i32>(oneRecord, c.handle);
  store<u32>(oneRecord, <u32>(c.outBuf + <usize>c.outStart), 4);
  store<i32>(oneRecord, len, 8);
  failAll(oneRecord, 1, wl_send_many(oneRecord, 1));
  return takeSent(c, load<i32>(oneRecord, 12));
}

/** Takes the result `n` of a send of the pending output. False for an error. */
// @ts-ignore: decorator
@inline export function takeSent(c: Conn, n: i32): bool {
  if (n > 0) {
    count(BYTES_OUT, <u64>n);
    touch(c);
    c.outStart += n;
    if (c.outStart == c.outEnd) {
      dropOutput(c);
      restartTimer(c);
    }
    return true;
  }
  return n == 0 || n == -EAGAIN;
}
