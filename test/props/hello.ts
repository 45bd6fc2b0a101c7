/**
 * The hello HTTP guest (wasm/hello.wasm, assembly/proto/hello.ts): keep-alive and pipelined
 * requests each answered with 200 "Hello, World!" in order (no body for HEAD; Content-Length
 * bodies skipped), a request that closes (Connection: close, HTTP/1.0) answered and then FIN,
 * and a malformed one answered with its 4xx/5xx and FIN (a protocol error).
 */
import type { Random } from '../../host/kernel/sim/random.ts';
import { concat, randomBytes, weighted, type Exchange, type GuestModel } from './model.ts';

const enc = new TextEncoder();
const OK_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n';
const REFUSAL = (status: string) =>
  `HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;

/** Over the guest's 8 KiB head limit: refused with 431. */
const LONG_HEAD = 9000;

interface Ok {
  head?: boolean;
  close?: boolean;
  keepAlive10?: boolean;
}

/** The guest's 200 response, byte for byte. */
function ok({ head = false, close = false, keepAlive10 = false }: Ok = {}): string {
  const connection = close
    ? 'Connection: close\r\n'
    : keepAlive10
      ? 'Connection: keep-alive\r\n'
      : '';
  return `${OK_HEAD}${connection}\r\n${head ? '' : 'Hello, World!'}`;
}

/** A request the guest answers and keeps the connection for: [request bytes, response]. */
function keepAliveRequest(rng: Random, budget: number): [Uint8Array, string] {
  const lead = rng.next() < 0.05 ? '\r\n' : ''; // RFC 9112 2.2: empty lines before a request
  const path = `/${rng.int(0, 99999)}`;
  const extra = rng.next() < 0.3 ? `X-Seed: ${rng.u32()}\r\nAccept: */*\r\n` : '';
  switch (
    weighted(rng, [
      [50, 'get'],
      [15, 'head'],
      [20, 'post'],
      [15, 'http10'],
    ] as const)
  ) {
    case 'get':
      return [enc.encode(`${lead}GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`), ok()];
    case 'head':
      return [
        enc.encode(`${lead}HEAD ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`),
        ok({ head: true }),
      ];
    case 'http10':
      return [
        enc.encode(`${lead}GET ${path} HTTP/1.0\r\nConnection: Keep-Alive\r\n${extra}\r\n`),
        ok({ keepAlive10: true }),
      ];
    case 'post': {
      const body = randomBytes(rng, rng.int(0, Math.max(0, Math.min(budget, 20_000))));
      const head = `${lead}POST ${path} HTTP/1.1\r\nHost: a\r\ncontent-length: ${body.length}\r\n${extra}\r\n`;
      return [concat([enc.encode(head), body]), ok()];
    }
  }
}

/** A last request after which the guest ends the connection: [request, response, refused]. */
function endingRequest(rng: Random, budget: number): [string, string, boolean] {
  const long = budget >= LONG_HEAD ? 15 : 0; // a 9 KB head is slow to send with tiny reads
  switch (
    weighted(rng, [
      [25, 'close'],
      [15, 'http10'],
      [15, 'lf'],
      [10, 'te'],
      [10, 'version'],
      [10, 'method'],
      [long, 'long'],
    ] as const)
  ) {
    case 'close':
      return [
        'GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        ok({ close: true }),
        false,
      ];
    case 'http10':
      return ['GET / HTTP/1.0\r\n\r\n', ok({ close: true }), false];
    case 'lf':
      return ['GET / HTTP/1.1\nHost: a\r\n\r\n', REFUSAL('400 Bad Request'), true];
    case 'te':
      return [
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        REFUSAL('501 Not Implemented'),
        true,
      ];
    case 'version':
      return ['GET / HTTP/2.0\r\n\r\n', REFUSAL('505 HTTP Version Not Supported'), true];
    case 'method':
      return ['G(T / HTTP/1.1\r\n\r\n', REFUSAL('400 Bad Request'), true];
    case 'long':
      return [
        `GET / HTTP/1.1\r\nX-Long: ${'a'.repeat(LONG_HEAD)}\r\n\r\n`,
        REFUSAL('431 Request Header Fields Too Large'),
        true,
      ];
  }
}

export const helloModel: GuestModel = {
  guest: 'hello',
  about: 'HTTP/1.1 keep-alive, pipelining, HEAD, bodies, closing and refused requests',
  exchange(rng: Random, budget: number): Exchange {
    const input: Uint8Array[] = [];
    const output: string[] = [];
    let size = 0;
    while (size < budget && rng.next() > 0.05) {
      const [req, res] = keepAliveRequest(rng, budget - size);
      input.push(req);
      output.push(res);
      size += req.length;
    }
    let units = output.length;
    if (rng.next() < 0.3) {
      const [req, res, refused] = endingRequest(rng, budget);
      input.push(enc.encode(req));
      output.push(res);
      if (!refused) units++;
      // Whatever follows is never answered (RFC 9112 9.6 after close; anything after an error).
      if (rng.next() < 0.3) input.push(enc.encode('GET /ignored HTTP/1.1\r\nHost: a\r\n\r\n'));
      return {
        input: concat(input),
        output: enc.encode(output.join('')),
        ends: true,
        refused,
        units,
      };
    }
    return {
      input: concat(input),
      output: enc.encode(output.join('')),
      ends: false,
      refused: false,
      units,
    };
  },
  prime() {
    // 2000 pipelined requests answer with ~156 KB: the guest fills its output, stops taking
    // requests, and keeps the rest of the input: two buffers.
    const req = 'GET / HTTP/1.1\r\n\r\n';
    const n = 2000;
    const exchange = {
      input: enc.encode(req.repeat(n)),
      output: enc.encode(ok().repeat(n)),
      ends: false,
      refused: false,
      units: n,
    };
    return { exchange, buffers: 2 };
  },
};
