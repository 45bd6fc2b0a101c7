/**
 * Saving connections from a trapped instance (docs/ABI.md, "Traps"). A trap ends the instance,
 * but its memory is intact and still readable: the host asks it, slot by slot, what each
 * connection is doing (the guest exports wl_salvage and wl_salvage_record), then
 *  - answers the connection whose code trapped with the guest's trap reply (wl_trap_reply)
 *    when the guest says nothing of its answer has gone out, and lets it linger to a close;
 *  - hands connections that were between requests, with their unread input, to the fresh
 *    instance (wl_adopt), which serves them as if nothing had happened;
 *  - closes the rest (their state was in the trapped instance's memory).
 *
 * Every answer from the guest is checked like a hostcall argument: a handle must be an open
 * connection of that very instance, a range must lie in its memory and be no larger than a
 * core buffer. A lying guest can only mistreat its own connections, which it could anyway.
 */
import { MAX_CARRY_BYTES, MAX_SLOTS, SALVAGE_RECORD_SIZE, SalvageAction } from '../abi.ts';
import { Errno } from '../errno.ts';
import { SHUT_WR, type Fd, type Kernel, type SockAddr } from '../kernel/contract.ts';
import type { Handle } from './handles.ts';

/** A connection on its way to the next instance. */
export interface Handover {
  fd: Fd;
  /** Input the trapped instance had read and not consumed; the next recv returns it first. */
  input: Uint8Array | null;
  /** Answered already: the next instance only lingers until the peer closes. */
  linger: boolean;
}

export interface Salvaged {
  handovers: Handover[];
  /** The guest named the connection whose code trapped: the trap was that request's alone. */
  culprit: boolean;
  /** That connection's peer address, read before its answer went out (a peer that has its
   *  answer may close at once), for the trap budget per peer (host/guest/peer-guard.ts); or -errno. */
  culpritPeer: SockAddr | number;
  /** A planned salvage only: what the guest threw while answering (it trapped; the
   *  connections it named before have moved). */
  trap?: unknown;
}

/** Exports a guest may have for this (all optional: without them nothing is saved). */
export interface SalvageExports {
  wl_salvage(slot: number): number;
  wl_salvage_record(): number;
  wl_trap_reply?(): number;
  wl_adopt?(handle: number, linger: number, nowMs: number): number;
  /** A reload replaced the instance: it begins no request any more (docs/ABI.md, wl_retire). */
  wl_retire?(): void;
}

/** Most bytes of unread input carried over (an ABI value: host/abi.ts). */
export const MAX_CARRY = MAX_CARRY_BYTES;
/** Largest trap reply a guest may name. */
const MAX_REPLY = 4096;

/** What salvage needs of the instance. */
export interface SalvageTarget {
  readonly exports: Partial<SalvageExports>;
  readonly memory: ArrayBuffer;
  /** The fd of an open connection handle of this instance, or -1. */
  connFd(handle: Handle): Fd;
  /** Takes the handle away from the instance without closing its fd (out of epoll, too);
   *  returns input carried over to it that it has not read yet. */
  release(handle: Handle): Uint8Array | null;
  /** Closes a connection that was released and cannot be handed over. */
  discard(fd: Fd): void;
}

/** Asks a trapped instance which connections can be saved, answers its culprit, and takes the
 *  others out of it. Never throws: a guest that traps again here saves what it named so far.
 *  `planned` (a reload: the instance did not trap and goes on serving what stays): only
 *  connections between requests with no output owed move, and, from a guest without
 *  wl_retire, only those with no unread input either (such a guest may begin the request whose
 *  bytes it has read); nothing else is touched. */
export function salvage(g: SalvageTarget, kernel: Kernel, planned = false): Salvaged {
  const out: Salvaged = { handovers: [], culprit: false, culpritPeer: -Errno.ENOTCONN };
  const ex = g.exports;
  if (typeof ex.wl_salvage !== 'function' || typeof ex.wl_salvage_record !== 'function') return out;
  const carries = !planned || typeof ex.wl_retire === 'function';
  try {
    const reply = planned ? null : trapReply(g);
    const record = ex.wl_salvage_record() >>> 0;
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const action = ex.wl_salvage(slot);
      if (action < 0) break;
      if (action === SalvageAction.None) continue;
      if (record + SALVAGE_RECORD_SIZE > g.memory.byteLength) break;
      const conn = readRecord(g, record);
      if (conn === undefined) continue;
      if (action === SalvageAction.Adopt) {
        if (!planned || (conn.owed === null && (conn.input === null || carries)))
          handOver(g, kernel, conn, out);
      } else if (
        !planned &&
        (action === SalvageAction.Reply || action === SalvageAction.Close) &&
        !out.culprit
      )
        answerCulprit(g, kernel, conn, action === SalvageAction.Reply ? reply : null, out);
    }
  } catch (err) {
    // The guest trapped (again) while answering: keep what it named before.
    if (planned) out.trap = err;
  }
  return out;
}

/** A connection as the guest described it in its salvage record. */
interface NamedConn {
  handle: Handle;
  fd: Fd;
  /** Input it had read and not consumed. */
  input: Uint8Array | null;
  /** Output it owes the peer. */
  owed: Uint8Array | null;
}

/** The record at `record` (in memory: the caller checked); undefined when its handle is not an
 *  open connection of the instance, or a range is out of bounds or too large. */
function readRecord(g: SalvageTarget, record: number): NamedConn | undefined {
  const mem = g.memory;
  const view = new DataView(mem, record, SALVAGE_RECORD_SIZE);
  const handle = view.getInt32(0, true) as Handle; // the guest's word: checked by connFd
  const fd = g.connFd(handle);
  if (fd < 0) return undefined;
  const input = copyRange(mem, view.getUint32(4, true), view.getUint32(8, true));
  const owed = copyRange(mem, view.getUint32(12, true), view.getUint32(16, true));
  if (input === undefined || owed === undefined) return undefined;
  return { handle, fd, input, owed };
}

/** A connection between requests moves to the next instance with its unread input. Output it
 *  is owed goes out first; if the peer cannot take it all now, the connection cannot move (the
 *  next instance would not know what is left): it stays, and teardown closes it. */
function handOver(g: SalvageTarget, kernel: Kernel, c: NamedConn, out: Salvaged): void {
  if (c.owed !== null && !sendAll(kernel, c.fd, c.owed)) return;
  const carried = join(c.input, g.release(c.handle));
  if (carried === undefined)
    g.discard(c.fd); // more than the next instance reads at once
  else out.handovers.push({ fd: c.fd, input: carried, linger: false });
}

/** The connection whose code trapped: the output it is owed, the trap reply (`reply`, when the
 *  guest says nothing of its answer went out), then FIN; the next instance lingers until the
 *  peer's EOF so that unread input does not turn the close into a reset that destroys the
 *  reply. */
function answerCulprit(
  g: SalvageTarget,
  kernel: Kernel,
  c: NamedConn,
  reply: Uint8Array | null,
  out: Salvaged,
): void {
  out.culprit = true;
  out.culpritPeer = kernel.peerAddress(c.fd);
  g.release(c.handle);
  const sent = c.owed === null || sendAll(kernel, c.fd, c.owed);
  if (sent && reply !== null) sendAll(kernel, c.fd, reply);
  kernel.shutdown(c.fd, SHUT_WR);
  out.handovers.push({ fd: c.fd, input: null, linger: true });
}

/** The guest's trap reply, copied out of its memory; null when it has none. */
function trapReply(g: SalvageTarget): Uint8Array | null {
  const at = g.exports.wl_trap_reply?.();
  if (typeof at !== 'number' || at === 0) return null;
  const mem = g.memory;
  const ptr = at >>> 0;
  if (ptr + 4 > mem.byteLength) return null;
  const len = new DataView(mem).getUint32(ptr, true);
  if (len === 0 || len > MAX_REPLY) return null;
  return copyRange(mem, ptr + 4, len) ?? null;
}

/** A copy of [ptr, ptr+len) of guest memory; null for an empty range; undefined when the
 *  range is out of bounds or larger than MAX_CARRY. */
function copyRange(mem: ArrayBuffer, ptr: number, len: number): Uint8Array | null | undefined {
  if (len === 0) return null;
  if (len > MAX_CARRY || ptr + len > mem.byteLength) return undefined;
  return new Uint8Array(mem, ptr, len).slice();
}

/** The input a connection carries on: what the guest read and did not consume, then what it
 *  had not read yet of what it was itself handed. undefined past MAX_CARRY, the most the next
 *  instance takes in its first read (epoll cannot tell it about bytes left over). */
function join(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null | undefined {
  if (a === null || b === null) return a ?? b;
  if (a.length + b.length > MAX_CARRY) return undefined;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Sends all of `bytes` if the socket takes them now; false when it could not. */
function sendAll(kernel: Kernel, fd: Fd, bytes: Uint8Array): boolean {
  for (let at = 0; at < bytes.length;) {
    const n = kernel.send(
      fd,
      bytes.buffer as ArrayBuffer,
      bytes.byteOffset + at,
      bytes.length - at,
    );
    if (n <= 0) return false; // EAGAIN or an error: the linger close follows either way
    at += n;
  }
  return true;
}
