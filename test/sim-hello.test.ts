/**
 * The hello HTTP guest in pure wasm: keep-alive, pipelining in order, HEAD, Connection and
 * HTTP/1.0 rules, bodies skipped by Content-Length, and the refusals (400, 431, 501, 505).
 * Every request is also fed split at every byte boundary and byte by byte: TCP is a stream.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop, type SimLoop } from './helpers/sim.ts';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n';
const HELLO = `${OK}\r\nHello, World!`;

/** Statuses of the responses in `text`, in order. Bodies are skipped by Content-Length, except
 *  for the responses whose index is in `heads` (answers to HEAD have none). */
function statuses(text: string, heads = new Set<number>()): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`truncated response: ${JSON.stringify(text.slice(at))}`);
    const head = text.slice(at, end);
    out.push(Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]));
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    at = end + 4 + (heads.has(out.length - 1) ? 0 : length);
  }
  return out;
}

function exchange(s: SimLoop, peer: SimPeer, request: string): string {
  peer.write(request);
  s.run();
  return peer.readText();
}

const CASES: { name: string; request: string; response: RegExp; closes: boolean }[] = [
  {
    name: 'GET',
    request: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    response: new RegExp(`^${HELLO}$`),
    closes: false,
  },
  {
    name: 'HEAD has no body',
    request: 'HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n',
    response: new RegExp(`^${OK}\r\n$`),
    closes: false,
  },
  {
    name: 'Connection: close',
    request: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    response: /^HTTP\/1\.1 200 OK\r\n.*Connection: close\r\n\r\nHello, World!$/s,
    closes: true,
  },
  {
    name: 'HTTP/1.0 closes',
    request: 'GET / HTTP/1.0\r\n\r\n',
    response: /Connection: close\r\n\r\nHello, World!$/,
    closes: true,
  },
  {
    name: 'HTTP/1.0 keep-alive',
    request: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    response: /Connection: keep-alive\r\n\r\nHello, World!$/,
    closes: false,
  },
  {
    name: 'body skipped by Content-Length',
    request: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde',
    response: new RegExp(`^${HELLO}$`),
    closes: false,
  },
  {
    name: 'bare LF',
    request: 'GET / HTTP/1.1\nHost: a\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'space before colon',
    request: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'obs-fold',
    request: 'GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'duplicate Content-Length',
    request: 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'signed Content-Length',
    request: 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'Transfer-Encoding',
    request: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    response: /^HTTP\/1\.1 501 /,
    closes: true,
  },
  {
    name: 'HTTP/2.0',
    request: 'GET / HTTP/2.0\r\n\r\n',
    response: /^HTTP\/1\.1 505 /,
    closes: true,
  },
  {
    name: 'lower-case version',
    request: 'GET / http/1.1\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'bad method byte',
    request: 'G(T / HTTP/1.1\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
  {
    name: 'control byte in a value',
    request: 'GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n',
    response: /^HTTP\/1\.1 400 /,
    closes: true,
  },
];

for (const flavour of FLAVOURS) {
  const test = suite(`sim hello (${flavour})`);

  for (const c of CASES) {
    test(`${c.name}: whole, at every split point, and byte by byte`, async () => {
      const splits = [
        c.request.length,
        ...Array.from({ length: c.request.length - 1 }, (_, i) => i + 1),
      ];
      for (const split of splits) {
        const s = await simLoop('hello', { flavour });
        const peer = s.connect();
        let out = exchange(s, peer, c.request.slice(0, split));
        out += exchange(s, peer, c.request.slice(split));
        assert.match(out, c.response, `split at ${split}`);
        assert.is(peer.serverShutWrite, c.closes, `split at ${split}: closes`);
      }
      const s = await simLoop('hello', { flavour, faults: { maxRecv: 1 } });
      const peer = s.connect();
      assert.match(exchange(s, peer, c.request), c.response, 'byte by byte');
    });
  }

  test('100 requests on one keep-alive connection', async () => {
    const s = await simLoop('hello', { flavour });
    const peer = s.connect();
    for (let i = 0; i < 100; i++)
      assert.is(exchange(s, peer, `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`), HELLO);
    assert.is(s.loop.stats().requests, 100);
    assert.not.ok(peer.serverShutWrite);
  });

  test('16 pipelined requests in one write are answered in order', async () => {
    const s = await simLoop('hello', { flavour });
    const peer = s.connect();
    const reqs = Array.from(
      { length: 16 },
      (_, i) => (i === 7 ? 'HEAD' : 'GET') + ` /${i} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    const out = exchange(s, peer, reqs.join(''));
    assert.equal(statuses(out, new Set([7])), Array(16).fill(200));
    assert.is(out.split('Hello, World!').length - 1, 15, 'HEAD got no body');
  });

  test('a head over 8 KiB is 431; a request line over 8 KiB is 414', async () => {
    let s = await simLoop('hello', { flavour });
    let peer = s.connect();
    assert.match(
      exchange(s, peer, `GET / HTTP/1.1\r\nX: ${'a'.repeat(9000)}\r\n\r\n`),
      /^HTTP\/1\.1 431 /,
    );
    s = await simLoop('hello', { flavour });
    peer = s.connect();
    assert.match(
      exchange(s, peer, `GET /${'a'.repeat(9000)} HTTP/1.1\r\n\r\n`),
      /^HTTP\/1\.1 414 /,
    );
  });

  test('a slow head is scanned once, not again on every byte', async () => {
    const s = await simLoop('hello', { flavour, faults: { maxRecv: 1 } });
    const peer = s.connect();
    const request = `GET / HTTP/1.1\r\nX: ${'b'.repeat(6000)}\r\n\r\n`;
    assert.is(exchange(s, peer, request), HELLO);
  });

  test('a peer that never reads does not make the guest buffer without bound', async () => {
    const s = await simLoop('hello', { flavour, window: 1024 });
    const peer = s.connect();
    const req = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    for (let i = 0; i < 200; i++) {
      peer.write(req.repeat(100));
      s.run();
    }
    assert.ok(peer.unread > 100_000, 'input stays in the socket while output is owed');
    assert.ok(s.memoryBytes() < 4 << 20, `guest memory stays small (${s.memoryBytes()} bytes)`);
  });

  test.run();
}
