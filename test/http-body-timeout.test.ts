/**
 * The body-progress deadline (body-timeout-ms, body-min-rate; Apache mod_reqtimeout's
 * body=20,MinRate=500) on a virtual clock, for the SDK (inspect.wasm) and hello: a body that
 * trickles at 1 B/s is cut within its 20 s grace period, while a slow but honest upload
 * (64 KiB/s, 4 MiB, a minute long) completes; chunked bodies too.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, pattern, simLoop, type SimLoop } from './helpers/sim.ts';
import { chunked, pump } from './helpers/http-sim.ts';
import { parseAll, undated } from './helpers/http-inspect.ts';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';

const R408 = 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
const HEAD = (length: number) =>
  `POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n\r\n`;
const CHUNKED_HEAD = 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

/** The server is done with the connection: it sent FIN (lingering close) or closed it. */
const ended = (peer: SimPeer) => peer.serverShutWrite || peer.serverClosed;

/** Sends `bytes` one per virtual second; returns the seconds until the server ended the
 *  connection (or `bytes` if it never did) and what it sent. */
function trickle(s: SimLoop, peer: SimPeer, bytes: string): { seconds: number; out: string } {
  let out = '';
  for (let t = 0; t < bytes.length; t++) {
    if (ended(peer)) return { seconds: t, out };
    peer.write(bytes[t]!);
    s.advance(1000);
    out += peer.readText();
  }
  return { seconds: bytes.length, out };
}

/** Sends `body` in 64 KiB pieces, one per virtual second, reading all the while. */
function upload(s: SimLoop, peer: SimPeer, head: string, body: Buffer): Buffer {
  const out: Buffer[] = [];
  peer.write(head);
  for (let at = 0; at < body.length; at += 64 * 1024) {
    assert.not.ok(ended(peer), `closed after ${at} bytes`);
    peer.write(body.subarray(at, at + 64 * 1024));
    out.push(pump(s, peer));
    s.advance(1000);
  }
  out.push(pump(s, peer));
  return Buffer.concat(out);
}

for (const flavour of FLAVOURS) {
  const test = suite(`http body timeout (${flavour})`);

  test('SDK: a Content-Length body at 1 B/s gets 408 within its 20 s grace period', async () => {
    const s = await simLoop('inspect', { flavour });
    const peer = s.connect();
    peer.write(HEAD(1000));
    assert.is(pump(s, peer).length, 0);
    const { seconds, out } = trickle(s, peer, 'x'.repeat(60));
    assert.ok(seconds >= 19 && seconds <= 22, `cut after ${seconds} s`);
    assert.is(undated(out), R408);
  });

  test('SDK: a chunked body trickled at 1 B/s (data or chunk framing) is cut too', async () => {
    for (const body of ['3e8\r\n' + 'y'.repeat(60), '1;ext=' + 'e'.repeat(60)]) {
      const s = await simLoop('inspect', { flavour });
      const peer = s.connect();
      peer.write(CHUNKED_HEAD);
      pump(s, peer);
      const { seconds, out } = trickle(s, peer, body);
      assert.ok(seconds >= 19 && seconds <= 22, `cut after ${seconds} s`);
      assert.is(undated(out), R408);
    }
  });

  test('SDK: 4 MiB at 64 KiB/s completes, Content-Length and chunked', async () => {
    const body = Buffer.from(pattern(4 << 20, 5));
    for (const chunkedBody of [false, true]) {
      const s = await simLoop('inspect', { flavour });
      const peer = s.connect();
      const wire = chunkedBody ? chunked(body, 60_000) : body;
      const out = upload(s, peer, chunkedBody ? CHUNKED_HEAD : HEAD(body.length), wire);
      const [res] = parseAll(out);
      assert.is(res?.status, 200);
      assert.is(JSON.parse(res!.body.toString('latin1')).bodyLength, body.length);
      assert.not.ok(ended(peer));
    }
  });

  test("SDK: the limits are the host's: body-timeout-ms, body-min-rate, 0 turns it off", async () => {
    const fast = await simLoop('inspect', {
      flavour,
      limits: { 'body-timeout-ms': 3000, 'body-min-rate': 1 },
    });
    const a = fast.connect();
    a.write(HEAD(100));
    pump(fast, a);
    // 3 s, plus 1 s for each byte: at 1 B/s the deadline keeps pace, at 1 B every 2 s it does not.
    let t = 0;
    for (; t < 40 && !ended(a); t += 2) {
      a.write('x');
      fast.advance(2000);
    }
    assert.ok(ended(a) && t >= 4 && t <= 10, `cut after ${t} s`);
    const off = await simLoop('inspect', { flavour, limits: { 'body-timeout-ms': 0 } });
    const b = off.connect();
    b.write(HEAD(100));
    const { seconds } = trickle(off, b, 'x'.repeat(50));
    assert.is(seconds, 50, 'never cut');
  });

  test('SDK: once the response head is out, a stalled body cuts the response short (no 408)', async () => {
    const s = await simLoop('demo', {
      flavour,
      limits: { 'body-timeout-ms': 2000, 'body-min-rate': 100_000 },
    });
    const peer = s.connect();
    peer.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
    peer.write(Buffer.alloc(20_000, 0x61)); // past the 16 KiB the SDK stages: the head goes out
    let out = pump(s, peer).toString('latin1');
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    const { seconds, out: rest } = trickle(s, peer, 'x'.repeat(30));
    out += rest;
    assert.ok(seconds >= 2 && seconds <= 4, `cut after ${seconds} s`);
    assert.not.match(out, /408/);
    assert.not.ok(
      out.endsWith('0\r\n\r\n'),
      'the chunked body has no last chunk: visibly incomplete',
    );
  });

  test('hello: a body at 1 B/s is closed within 20 s; a 4 MiB upload at 64 KiB/s completes', async () => {
    const s = await simLoop('hello', { flavour });
    const slow = s.connect();
    slow.write(HEAD(1000));
    assert.match(pump(s, slow).toString(), /Hello, World!/, 'hello answers at the head');
    const { seconds, out } = trickle(s, slow, 'x'.repeat(60));
    assert.ok(seconds >= 19 && seconds <= 22, `cut after ${seconds} s`);
    assert.is(out, '', 'no 408 after the response');
    const honest = s.connect();
    const body = Buffer.from(pattern(4 << 20, 9));
    const got = upload(
      s,
      honest,
      HEAD(body.length),
      Buffer.concat([body, Buffer.from('GET / HTTP/1.1\r\n\r\n')]),
    );
    assert.is(
      got.toString('latin1').split('Hello, World!').length - 1,
      2,
      'the upload and the request after it',
    );
    assert.not.ok(ended(honest));
  });

  test.run();
}
