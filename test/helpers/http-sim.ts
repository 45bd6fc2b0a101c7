/**
 * Driving HTTP guests over the simulated kernel: send bytes, tick until quiet while reading
 * everything the guest sends (so a small peer window never stalls the test), and parse.
 */
import type { SimPeer } from '../../host/kernel/sim/kernel.ts';
import type { SimLoop } from './sim.ts';

/** Ticks and reads until a round brings nothing new; returns what the peer received. */
export function pump(s: SimLoop, peer: SimPeer, maxRounds = 1_000_000): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < maxRounds; i++) {
    const busy = s.run();
    const got = peer.read();
    if (got.length > 0) out.push(Buffer.from(got));
    if (busy === 0 && got.length === 0) return Buffer.concat(out);
  }
  throw new Error(`still busy after ${maxRounds} rounds`);
}

/** Writes `data` (in pieces of `piece` bytes, ticking and reading in between); returns all
 *  that came back. */
export function send(s: SimLoop, peer: SimPeer, data: Buffer | string, piece = 1 << 20): Buffer {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += piece) {
    peer.write(buf.subarray(at, at + piece));
    out.push(pump(s, peer));
  }
  return Buffer.concat(out);
}

export const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;

export function POST(path: string, body: Buffer | string, extra = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${b.length}\r\n${extra}\r\n`,
      'latin1',
    ),
    b,
  ]);
}

/** A chunked encoding of `body` in pieces of `size` bytes. */
export function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) {
    const piece = body.subarray(at, at + size);
    parts.push(
      Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'),
      piece,
      Buffer.from('\r\n', 'latin1'),
    );
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** The value of header `name` (any case) in a parsed response, or undefined. */
export function headerOf(headers: Array<[string, string]>, name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}
