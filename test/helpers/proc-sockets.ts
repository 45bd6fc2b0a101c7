/**
 * This process's TCP sockets on a local port, from /proc/self/fd and /proc/net/tcp{,6}: what
 * the host really holds open, whatever a guest's counters say (worker threads included).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A'; // the `st` column of /proc/net/tcp

export interface PortSockets {
  /** fd numbers of listening sockets on the port. */
  listening: number[];
  /** fd numbers of every other socket (accepted connections) on the port. */
  connected: number[];
}

/** Sockets of this process whose local port is `port`. */
export function socketsOnPort(port: number): PortSockets {
  const states = new Map<string, string>(); // inode -> state
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && parseInt(cols[1]!.split(':')[1]!, 16) === port)
        states.set(cols[9]!, cols[3]!);
    }
  }
  const out: PortSockets = { listening: [], connected: [] };
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const state = inode === undefined ? undefined : states.get(inode);
    if (state !== undefined) (state === LISTEN ? out.listening : out.connected).push(Number(fd));
  }
  return out;
}
