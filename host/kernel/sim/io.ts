/**
 * recv and send on a simulated connection, after the kernel has validated the descriptor and
 * the memory range. Faults (short reads/writes, spurious EAGAIN) are applied here.
 */
import { Errno } from '../../errno.ts';
import type { FaultTally, SimFaults } from './faults.ts';
import type { Random } from './random.ts';
import type { ConnSocket } from './socket.ts';

/** Reads into memory[ptr, ptr+len): 1..len bytes, 0 at EOF, or -errno. */
export function recvConn(
  conn: ConnSocket,
  memory: ArrayBuffer,
  ptr: number,
  len: number,
  rng: Random,
  faults: SimFaults,
  tally: FaultTally,
): number {
  if (conn.reset) return -Errno.ECONNRESET;
  if (conn.rdShut) return 0;
  if (conn.rx.length === 0) return conn.peerFin ? 0 : -Errno.EAGAIN;
  tally.chance('eagain', faults.eagain ?? 0);
  if (rng.chance(faults.eagain)) return spuriousEagain(conn, tally);
  const n = shorten(
    Math.min(len, conn.rx.length),
    conn.maxRecv ?? faults.maxRecv,
    faults.shortRead,
    rng,
    tally,
    'maxRecv',
    'shortRead',
  );
  conn.rx.readInto(new Uint8Array(memory, ptr, n), n);
  return n;
}

/** Sends memory[ptr, ptr+len) into the peer's window: 1..len bytes or -errno. */
export function sendConn(
  conn: ConnSocket,
  memory: ArrayBuffer,
  ptr: number,
  len: number,
  rng: Random,
  faults: SimFaults,
  tally: FaultTally,
): number {
  if (conn.reset) return -Errno.ECONNRESET;
  if (conn.wrShut || conn.broken) return -Errno.EPIPE;
  if (conn.peerClosed) {
    // The peer is gone: on Linux the first send is accepted and answered with an RST, and the
    // next gets EPIPE. Here the first send already gets EPIPE, and the socket reports ERR|HUP.
    conn.broken = true;
    conn.notify();
    return -Errno.EPIPE;
  }
  const space = conn.window - conn.tx.length;
  if (space <= 0) return -Errno.EAGAIN;
  tally.chance('eagain', faults.eagain ?? 0);
  if (rng.chance(faults.eagain)) return spuriousEagain(conn, tally);
  const n = shorten(
    Math.min(len, space),
    faults.maxSend,
    faults.shortWrite,
    rng,
    tally,
    'maxSend',
    'shortWrite',
  );
  conn.tx.push(new Uint8Array(memory, ptr, n).slice());
  conn.sent += n;
  return n;
}

/** A fault: -EAGAIN although the call could proceed. Re-queues the socket (still ready). */
function spuriousEagain(conn: ConnSocket, tally: FaultTally): number {
  conn.notify();
  tally.hit('eagain');
  return -Errno.EAGAIN;
}

/** Applies a byte cap and a short-transfer probability to a length n >= 1, and tallies each
 *  that made the transfer shorter (a cap must when n exceeds it; a short transfer of len
 *  bytes is 1..len, shorter with odds (len - 1) / len). */
function shorten(
  n: number,
  cap: number | undefined,
  shortP: number | undefined,
  rng: Random,
  tally: FaultTally,
  capKind: 'maxRecv' | 'maxSend',
  shortKind: 'shortRead' | 'shortWrite',
): number {
  const capped = cap !== undefined && cap > 0 && n > cap;
  if (capped) tally.chance(capKind, 1);
  let len = cap !== undefined && cap > 0 ? Math.min(n, cap) : n;
  if (len < n) tally.hit(capKind);
  const whole = len;
  tally.chance(shortKind, ((shortP ?? 0) * (whole - 1)) / whole);
  if (rng.chance(shortP)) len = rng.int(1, len);
  if (len < whole) tally.hit(shortKind);
  return len;
}
