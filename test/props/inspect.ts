/**
 * The HTTP inspect guest (wasm/inspect.wasm, assembly/apps/inspect.ts on assembly/http): every
 * request answered with a JSON description of what it received: method, target, version, the
 * header fields in order as sent, the body's length and SHA-256. Bodies come with
 * Content-Length or chunked (split at random into chunks); pipelined and keep-alive requests
 * are answered in order; a request that closes (Connection: close, HTTP/1.0) is answered, then
 * FIN; a malformed one (a bare LF) gets 400 and FIN (a protocol error).
 */
import { createHash } from 'node:crypto';
import { Random } from '../../host/kernel/sim/random.ts';
import {
  concat,
  DATE_LINE,
  randomBytes,
  weighted,
  withDates,
  type Exchange,
  type GuestModel,
} from './model.ts';

const enc = new TextEncoder();

interface Request {
  method: string;
  target: string;
  version: 'HTTP/1.1' | 'HTTP/1.0';
  headers: [string, string][];
  body: Uint8Array;
  chunked: boolean;
  /** The response says Connection: close and the guest ends the connection. */
  close: boolean;
}

/** The request's bytes: head, then the body as sent (chunked: in random chunks). */
function encode(rng: Random, r: Request): Uint8Array {
  const head = `${r.method} ${r.target} ${r.version}\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  if (!r.chunked) return concat([enc.encode(head), r.body]);
  const parts: Uint8Array[] = [enc.encode(head)];
  for (let at = 0; at < r.body.length;) {
    const n = Math.min(r.body.length - at, rng.int(1, 5000));
    const size = rng.next() < 0.5 ? n.toString(16) : n.toString(16).toUpperCase();
    parts.push(enc.encode(`${size}\r\n`), r.body.subarray(at, at + n), enc.encode('\r\n'));
    at += n;
  }
  parts.push(enc.encode('0\r\n\r\n'));
  return concat(parts);
}

/** The guest's answer, byte for byte. */
function answer(r: Request): string {
  const json = JSON.stringify({
    method: r.method,
    target: r.target,
    version: r.version,
    headers: r.headers,
    bodyLength: r.body.length,
    bodySha256: createHash('sha256').update(r.body).digest('hex'),
  });
  const keepAlive10 = r.version === 'HTTP/1.0' && !r.close;
  const connection = r.close
    ? 'Connection: close\r\n'
    : keepAlive10
      ? 'Connection: keep-alive\r\n'
      : '';
  const head = `HTTP/1.1 200 OK\r\n${DATE_LINE}Content-Type: application/json\r\nContent-Length: ${json.length}\r\n${connection}\r\n`;
  return r.method === 'HEAD' ? head : head + json;
}

function request(rng: Random, budget: number, close: boolean): Request {
  const method = weighted(rng, [
    [40, 'GET'],
    [10, 'HEAD'],
    [30, 'POST'],
    [10, 'PUT'],
    [10, 'DELETE'],
  ] as const);
  const http10 = rng.next() < 0.15;
  const headers: [string, string][] = http10 ? [] : [['Host', 'a']];
  if (rng.next() < 0.3) headers.push(['X-Seed', String(rng.u32())]);
  if (rng.next() < 0.2) headers.push(['accept', '*/*']);
  let body: Uint8Array = new Uint8Array(0);
  let chunked = false;
  if (method === 'POST' || method === 'PUT') {
    body = randomBytes(rng, rng.int(0, Math.max(0, Math.min(budget, 40_000))));
    chunked = !http10 && rng.next() < 0.4;
    headers.push(
      chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.length)],
    );
  }
  if (close) headers.push(['Connection', 'close']);
  else if (http10) headers.push(['Connection', 'keep-alive']);
  const target = `/${rng.int(0, 9999)}${rng.next() < 0.3 ? `?q=${rng.int(0, 99)}` : ''}`;
  return {
    method,
    target,
    version: http10 ? 'HTTP/1.0' : 'HTTP/1.1',
    headers,
    body,
    chunked,
    close,
  };
}

/** How a conversation of `output.length` answered requests ends: mostly it does not (the
 *  peer ends it); else with a request that closes or a malformed one (400), after which the
 *  guest ends the connection and ignores any request that follows. */
function withEnding(rng: Random, input: Uint8Array[], output: string[]): Exchange {
  let units = output.length;
  const ending =
    rng.next() < 0.3
      ? weighted(rng, [
          [60, 'close'],
          [40, 'lf'],
        ] as const)
      : undefined;
  if (ending === undefined)
    return {
      input: concat(input),
      ...withDates(output.join('')),
      ends: false,
      refused: false,
      units,
    };
  if (ending === 'close') {
    const r = request(rng, 1000, true);
    input.push(encode(rng, r));
    output.push(answer(r));
    units++;
  } else {
    input.push(enc.encode('GET / HTTP/1.1\nHost: a\r\n\r\n'));
    output.push(BAD_REQUEST);
  }
  if (rng.next() < 0.3) input.push(enc.encode('GET /ignored HTTP/1.1\r\nHost: a\r\n\r\n'));
  return {
    input: concat(input),
    ...withDates(output.join('')),
    ends: true,
    refused: ending === 'lf',
    units,
  };
}

/** A request with no body that keeps the connection open. */
function plainRequest(
  method: string,
  target: string,
  headers: [string, string][],
  version: Request['version'] = 'HTTP/1.1',
): Request {
  return {
    method,
    target,
    version,
    headers,
    body: new Uint8Array(0),
    chunked: false,
    close: false,
  };
}

/** One request of each kind whose state the SDK sets up the first time a slot sees it: a body,
 *  a chunked body, HEAD, HTTP/1.0. */
function primingKinds(rng: Random): Request[] {
  const post = plainRequest('POST', '/p', [
    ['Host', 'a'],
    ['Content-Length', '40000'],
  ]);
  post.body = randomBytes(rng, 40_000);
  const put = plainRequest('PUT', '/c', [
    ['Host', 'a'],
    ['Transfer-Encoding', 'chunked'],
  ]);
  put.body = randomBytes(rng, 40_000);
  put.chunked = true;
  return [
    post,
    put,
    plainRequest('HEAD', '/h', [['Host', 'a']]),
    plainRequest('GET', '/o', [['Connection', 'keep-alive']], 'HTTP/1.0'),
  ];
}

/** Any fixed seed: the priming conversation is the same in every run. */
const PRIME_SEED = 7;

const BAD_REQUEST = `HTTP/1.1 400 Bad Request\r\n${DATE_LINE}Content-Length: 0\r\nConnection: close\r\n\r\n`;

export const inspectModel: GuestModel = {
  guest: 'inspect',
  about: 'HTTP/1.1 SDK: each request described back as JSON (headers, body length and SHA-256)',
  // The SDK keeps size-classed blocks of its own (assembly/http/buffers.ts), reused forever;
  // how many it ever needs at once depends on timing, so only the memory size is compared.
  memoryCheck: 'pages',
  exchange(rng: Random, budget: number): Exchange {
    const input: Uint8Array[] = [];
    const output: string[] = [];
    let size = 0;
    while (size < budget && rng.next() > 0.05) {
      const r = request(rng, budget - size, false);
      const bytes = encode(rng, r);
      input.push(bytes);
      output.push(answer(r));
      size += bytes.length;
    }
    return withEnding(rng, input, output);
  },
  prime() {
    // 400 pipelined GETs answer with ~140 KB: with the peer not reading, the output fills and
    // the rest of the input waits: two buffers. Then one request of each kind, so that state
    // the SDK sets up the first time a slot sees a body, a chunked body or HTTP/1.0 exists
    // before memory is compared (it is reused after).
    const rng = new Random(PRIME_SEED);
    const kinds = primingKinds(rng);
    const get = plainRequest('GET', '/', [['Host', 'a']]);
    const all = [...Array<Request>(400).fill(get), ...kinds];
    const input = concat(all.map((r) => encode(rng, r)));
    return {
      exchange: {
        input,
        ...withDates(all.map(answer).join('')),
        ends: false,
        refused: false,
        units: all.length,
      },
      buffers: 2,
    };
  },
};
