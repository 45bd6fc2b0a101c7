/**
 * The trap budget per peer (docs/SECURITY.md). A trap the guest pins on one connection is that
 * request's failure: the guest restarts at once and the trap does not count toward
 * `maxRestarts`, so no client can stop the server. But every other request in flight dies with
 * the instance, so without a bound one client could cut everybody else's downloads forever.
 *
 * Policy: each peer may cause `budget` pinned traps, refilled at `budget` per minute (a token
 * bucket). The trap that spends its last one blocks the peer for `blockMs`: the host closes its
 * new connections at accept, before the guest sees them, and its connections between requests
 * instead of handing them to the next instance. A peer is an IPv4 address, or an IPv6 /64: one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses would give an
 * attacker 2^64 budgets. IPv4-mapped IPv6 addresses count as their IPv4 address.
 *
 * Bounded memory: at most `capacity` peers are remembered. A new one evicts the least recently
 * trapping peer that is not blocked (the oldest blocked one only when every peer is blocked),
 * so an attacker with many addresses cannot flush a block without spending a trap per entry.
 *
 * Cost when nobody is blocked: one field test per accept. While a block is in force, each accept
 * reads the new connection's peer address (one getpeername).
 */
import type { Fd, Kernel, SockAddr } from '../kernel/contract.ts';
import { KNOWN_LIMITS } from '../limits.ts';
import type { Handover } from './salvage.ts';

/** Peers remembered at once: about 100 bytes each, so well under a megabyte. */
export const PEER_TABLE_SIZE = 4096;
const MINUTE_MS = 60_000;

interface PeerRecord {
  /** Traps left; refilled at `budget` per minute up to `budget`. */
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
  /** New connections of this peer are refused until then. */
  blockedUntil: number;
}

export interface PeerGuardOptions {
  /** Pinned traps a peer may cause per minute; 0 switches the policy off. */
  budget: number;
  blockMs: number;
  kernel: Kernel;
  now: () => number;
  capacity?: number;
}

export class PeerGuard {
  /** Connections the host closed because their peer was blocked (a counter). */
  refused = 0;
  /** Times a peer was blocked (a counter). */
  blocks = 0;
  /** Least recently trapping first: a Map keeps insertion order, and a trap re-inserts. */
  private readonly peers = new Map<string, PeerRecord>();
  /** The latest end of any block; 0 once no block can be in force (the accept fast path). */
  private blockEnd = 0;
  private readonly capacity: number;

  constructor(private readonly opts: PeerGuardOptions) {
    this.capacity = Math.max(1, opts.capacity ?? PEER_TABLE_SIZE);
  }

  /** Peers remembered now (never more than the capacity). */
  get size(): number {
    return this.peers.size;
  }

  /** Whether a block may be in force; false means accept needs no check. */
  get blocking(): boolean {
    return this.blockEnd !== 0;
  }

  /** Counts a trap pinned on a connection against its peer (its address, from salvage). A
   *  peer whose address could not be read (the connection was reset already) is charged
   *  nothing: see the limits in docs/SECURITY.md. */
  trapOn(peer: SockAddr | number): void {
    if (this.opts.budget > 0 && typeof peer !== 'number') this.trap(peerKey(peer));
  }

  /** Counts a trap against `key`; true when it blocked the peer. */
  trap(key: string): boolean {
    const now = this.opts.now();
    const budget = this.opts.budget;
    const p = this.take(key, now) ?? { tokens: budget, at: now, blockedUntil: 0 };
    p.tokens = Math.max(0, Math.min(budget, p.tokens + ((now - p.at) * budget) / MINUTE_MS) - 1);
    p.at = now;
    this.peers.set(key, p);
    if (p.tokens >= 1 || this.opts.blockMs <= 0) return false;
    if (p.blockedUntil <= now) this.blocks++;
    p.blockedUntil = now + this.opts.blockMs;
    this.blockEnd = Math.max(this.blockEnd, p.blockedUntil);
    return true;
  }

  /** Whether connections from `key` are refused now. */
  isBlocked(key: string): boolean {
    const now = this.opts.now();
    if (now >= this.blockEnd) this.blockEnd = 0;
    const p = this.peers.get(key);
    return p !== undefined && now < p.blockedUntil;
  }

  /** Counts, and leaves to the caller to close, the connection `fd` if it comes from a blocked
   *  peer: true when it does. A connection whose address cannot be read is let through. */
  refuses(fd: Fd): boolean {
    if (this.blockEnd === 0) return false; // the accept path's whole cost while nobody is blocked
    const key = peerKeyOf(this.opts.kernel, fd);
    if (key === null || !this.isBlocked(key)) return false;
    this.refused++;
    return true;
  }

  /** Closes, and takes out of `handovers`, the connections of blocked peers that were between
   *  requests (a lingering culprit already has its answer and stays); `unlist` is called for
   *  each before it is closed. Returns how many. */
  dropBlocked(handovers: Handover[], unlist?: (fd: number) => void): number {
    if (!this.blocking) return 0;
    const kept: Handover[] = [];
    for (const h of handovers) {
      if (h.linger || !this.refuses(h.fd)) {
        kept.push(h);
        continue;
      }
      unlist?.(h.fd); // out of the worker's handoff list before the number can be reused
      this.opts.kernel.close(h.fd);
    }
    const dropped = handovers.length - kept.length;
    handovers.splice(0, handovers.length, ...kept);
    return dropped;
  }

  /** Takes `key`'s record out of the table (to re-insert it as the newest), or makes room. */
  private take(key: string, now: number): PeerRecord | undefined {
    const p = this.peers.get(key);
    if (p !== undefined) {
      this.peers.delete(key);
      return p;
    }
    if (this.peers.size < this.capacity) return undefined;
    let victim: string | undefined;
    for (const [k, r] of this.peers) {
      victim ??= k; // the oldest, if every peer is blocked
      if (r.blockedUntil <= now) {
        victim = k;
        break;
      }
    }
    this.peers.delete(victim!);
    return undefined;
  }
}

/** A guard with the `max-traps-per-peer-minute` and `peer-block-ms` limits (host/limits.ts). */
export function peerGuardFor(
  limits: Readonly<Record<string, number>>,
  kernel: Kernel,
  now: () => number,
): PeerGuard {
  const limit = (name: string) => limits[name] ?? KNOWN_LIMITS[name]!.default;
  return new PeerGuard({
    budget: limit('max-traps-per-peer-minute'),
    blockMs: limit('peer-block-ms'),
    kernel,
    now,
  });
}

/** The peer of connection `fd` as a budget key, or null when its address cannot be read. */
export function peerKeyOf(kernel: Kernel, fd: Fd): string | null {
  const addr = kernel.peerAddress(fd);
  return typeof addr === 'number' ? null : peerKey(addr);
}

/** `a.b.c.d` for IPv4 (and IPv4-mapped IPv6), the /64 prefix `x:x:x:x::/64` for IPv6; the
 *  address as it is written when it does not parse (it is still one peer). */
export function peerKey(addr: SockAddr): string {
  const host = addr.host.split('%')[0]!; // no zone id
  if (addr.family === 4) return host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1]!;
  const halves = host.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const tailGroups = tail.length + (tail.at(-1)?.includes('.') ? 1 : 0); // a dotted quad is two
  const fill = halves.length === 2 ? Math.max(0, 8 - head.length - tailGroups) : 0;
  const prefix = [...head, ...Array<string>(fill).fill('0'), ...tail].slice(0, 4);
  if (halves.length > 2 || prefix.length !== 4 || !prefix.every((g) => /^[0-9a-f]{1,4}$/i.test(g)))
    return host;
  return `${prefix.map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
