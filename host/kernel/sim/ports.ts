/**
 * The simulated port space: which listener is bound where, ephemeral port allocation, and
 * routing a test's `connect(port)` to a listener.
 *
 * Two listeners conflict (-EADDRINUSE) when they share a port, their addresses overlap (equal,
 * or one is a wildcard: `0.0.0.0` covers IPv4, `::` covers both families), and not both asked
 * for SO_REUSEPORT. Addresses are compared as strings (`::1` and `0::1` differ here).
 */
import { Errno } from '../../errno.ts';
import type { ListenSocket } from './socket.ts';

/** Ephemeral ports are handed out upward from here, wrapping at 65535. */
const EPHEMERAL_FIRST = 40000;
const PORT_LAST = 65535;

function covers(wild: string, family: number, host: string): boolean {
  return host === wild || wild === '::' || (wild === '0.0.0.0' && family === 4);
}

function overlaps(a: ListenSocket, b: ListenSocket): boolean {
  return (
    covers(a.local.host, b.local.family, b.local.host) ||
    covers(b.local.host, a.local.family, a.local.host)
  );
}

export class PortTable {
  /** Invariant: every list is non-empty and holds open listeners bound to that port. */
  private readonly byPort = new Map<number, ListenSocket[]>();
  private nextEphemeral = EPHEMERAL_FIRST;
  /** Round-robin counter spreading connections over a port's listeners (SO_REUSEPORT). */
  private turn = 0;

  /** A port no listener uses, or -EADDRINUSE when none is left. */
  ephemeral(): number {
    for (let tries = 0; tries <= PORT_LAST - EPHEMERAL_FIRST; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === PORT_LAST ? EPHEMERAL_FIRST : port + 1;
      if (!this.byPort.has(port)) return port;
    }
    return -Errno.EADDRINUSE;
  }

  /** Binds `sock` at `sock.local.port`: 0, or -EADDRINUSE. */
  bind(sock: ListenSocket): number {
    const list = this.byPort.get(sock.local.port) ?? [];
    for (const other of list) {
      if (overlaps(sock, other) && !(sock.reusePort && other.reusePort)) return -Errno.EADDRINUSE;
    }
    list.push(sock);
    this.byPort.set(sock.local.port, list);
    return 0;
  }

  unbind(sock: ListenSocket): void {
    const list = this.byPort.get(sock.local.port);
    if (list === undefined) return;
    const rest = list.filter((s) => s !== sock);
    if (rest.length > 0) this.byPort.set(sock.local.port, rest);
    else this.byPort.delete(sock.local.port);
  }

  /** The listener a connection to `host:port` reaches (any host when omitted), or undefined. */
  route(port: number, host?: string): ListenSocket | undefined {
    const list = this.byPort.get(port);
    if (list === undefined) return undefined;
    const family = host !== undefined && host.includes(':') ? 6 : 4;
    const fit = host === undefined ? list : list.filter((s) => covers(s.local.host, family, host));
    if (fit.length === 0) return undefined;
    return fit.length === 1 ? fit[0] : fit[this.turn++ % fit.length];
  }
}
