/**
 * poll_oneoff on a command's sockets (host/command/poll.ts): FD_READ and FD_WRITE over the
 * same epoll instance as stdin. A listener is readable when a connection is waiting (held back
 * while sock_accept refuses at max-connections, so a guest at the limit is not woken for
 * nothing). A connection that epoll calls readable is read ahead once (host/command/socket-io.ts
 * keeps those bytes for the guest's next read), so `nbytes` is the bytes really there, and
 * `hangup` is set once the peer has shut its side: at end of input, or with EPOLLRDHUP.
 */
import { Errno } from '../errno.ts';
import { EPOLLHUP, EPOLLIN, EPOLLOUT } from '../kernel/contract.ts';
import type { PollTable } from './poll-table.ts';
import { READ_READY, WRITE_READY, type HostReadiness } from './ready.ts';
import { readAhead, type Socket, type SocketHost } from './socket-io.ts';

export interface SocketPoll {
  host: SocketHost;
  /** True while sock_accept refuses (max-connections). */
  atLimit(): boolean;
}

/** How poll.ts treats a subscription (PollTable.kind). */
export const Kind = {
  /** Fires at once, with its `errno` (0 included). */
  now: 0,
  never: 1,
  clock: 2,
  /** A read on a host stdio fd. */
  stdin: 3,
  listener: 4,
  connection: 5,
  /** A write on a socket. */
  write: 6,
} as const;

/** Subscription `i` is FD_READ (`write` false) or FD_WRITE on `socket`: its kind, and what
 *  epoll is to watch. A listener held back at max-connections is never ready and not watched
 *  (were it watched, level-triggered epoll would wake the wait over and over). */
export function watchSocket(
  net: SocketPoll,
  table: PollTable,
  i: number,
  socket: Socket,
  write: boolean,
): void {
  const readiness = net.host.readiness;
  table.socket[i] = socket;
  table.hostFd[i] = socket.fd;
  if (write) {
    table.kind[i] = Kind.write;
    readiness.want(socket.fd, EPOLLOUT);
  } else if (socket.listener && net.atLimit()) {
    table.kind[i] = Kind.never;
  } else {
    table.kind[i] = socket.listener ? Kind.listener : Kind.connection;
    if (socket.pendingLength > 0 || socket.eof) table.answerBeforeWait = true;
    readiness.want(socket.fd, EPOLLIN);
  }
}

/** Whether socket subscription `i` has fired now (its answer then in `table`). */
export function socketFired(host: SocketHost, table: PollTable, i: number): boolean {
  const readiness = host.readiness;
  const fd = table.hostFd[i]!;
  switch (table.kind[i]) {
    case Kind.write: {
      const events = readiness.events(fd);
      if ((events & WRITE_READY) === 0) return false;
      return table.fire(i, 0, 0, (events & EPOLLHUP) !== 0);
    }
    case Kind.listener:
      if (!readable(readiness, fd)) return false;
      return table.fire(i, 0, 0, false);
    default:
      return connectionFired(host, table, i, table.socket[i]!);
  }
}

function readable(readiness: HostReadiness, fd: number): boolean {
  return (readiness.events(fd) & READ_READY) !== 0 || readiness.fixedState(fd) !== undefined;
}

/** A read subscription on a connection, reading ahead once if epoll says the kernel has bytes
 *  (a failed read is the event's error: a reset peer is ECONNRESET). */
function connectionFired(host: SocketHost, table: PollTable, i: number, socket: Socket): boolean {
  if (socket.pendingLength === 0 && !socket.eof) {
    if (!readable(host.readiness, socket.fd)) return false;
    const n = readAhead(host, socket, false);
    if (n === -Errno.EAGAIN) return false; // woken, but the bytes went (another reader)
    if (n < 0) return table.fire(i, -n, 0, true);
  }
  return table.fire(i, 0, socket.pendingLength, socket.eof);
}
