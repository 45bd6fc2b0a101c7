/**
 * poll_oneoff on a command's sockets (host/command/poll.ts): FD_READ and FD_WRITE over the
 * same epoll instance as stdin. A listener is readable when a connection is waiting (held back
 * while sock_accept refuses at max-connections, so a guest at the limit is not woken for
 * nothing). A connection that epoll calls readable is read ahead once (host/command/socket-io.ts
 * keeps those bytes for the guest's next read), so `nbytes` is the bytes really there, and
 * `hangup` is set once the peer has shut its side: at end of input, or with EPOLLRDHUP.
 */
import { Errno } from '../errno.ts';
import { EPOLLIN, EPOLLOUT } from '../kernel/contract.ts';
import type { ReadState, Readiness, Watch } from './ready.ts';
import { readAhead, type Socket, type SocketHost } from './socket-io.ts';

export interface SocketPoll {
  host: SocketHost;
  /** True while sock_accept refuses (max-connections). */
  atLimit(): boolean;
}

export interface SocketWaiter {
  /** What to ask epoll; none for a listener held back at max-connections (were it watched,
   *  level-triggered epoll would wake the wait over and over while a connection waits). */
  watch?: Watch;
  check(readiness: Readiness): ReadState | undefined;
}

/** A waiter for FD_READ (`write` false) or FD_WRITE on `socket`. */
export function socketWaiter(net: SocketPoll, socket: Socket, write: boolean): SocketWaiter {
  const fd = socket.fd;
  if (write) return { watch: { fd, events: EPOLLOUT }, check: (r) => r.writable(fd) };
  const watch = { fd, events: EPOLLIN };
  if (socket.listener) {
    if (net.atLimit()) return { check: () => undefined };
    return { watch, check: (r) => listenerState(r.readable(fd)) };
  }
  return { watch, check: (r) => connectionState(net.host, socket, r) };
}

function listenerState(state: ReadState | undefined): ReadState | undefined {
  return state && { error: 0, nbytes: 0, hangup: false };
}

/** What a read subscription on a connection reports now, reading ahead once if epoll says the
 *  kernel has bytes (a failed read is the event's error: a reset peer is ECONNRESET). */
function connectionState(host: SocketHost, socket: Socket, r: Readiness): ReadState | undefined {
  if (socket.pending.length === 0 && !socket.eof) {
    const state = r.readable(socket.fd);
    if (state === undefined) return undefined;
    const n = readAhead(host, socket, false);
    if (n === -Errno.EAGAIN) return undefined; // woken, but the bytes went (another reader)
    if (n < 0) return { error: -n, nbytes: 0, hangup: true };
  }
  return { error: 0, nbytes: socket.pending.length, hangup: socket.eof };
}
