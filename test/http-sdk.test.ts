/**
 * The HTTP SDK over the simulated kernel (wasm/demo.wasm, wasm/inspect.wasm): response
 * framing, streaming both ways with backpressure, bodies far larger than guest memory,
 * timeouts, the Date header, and memory that does not grow per request. Handler errors:
 * test/http-sdk-errors.test.ts; traps: test/http-sdk-traps.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, pattern, simLoop } from './helpers/sim.ts';
import { chunked, GET, headerOf, POST, pump, send } from './helpers/http-sim.ts';
import { parseAll, sha256hex, undated } from './helpers/http-inspect.ts';
import { SIM_EPOCH_MS } from '../host/kernel/sim/kernel.ts';

const MiB = 1 << 20;

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk (${flavour})`);

  test('small responses get Content-Length; streamed ones are chunked; HEAD has no body', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const big = Buffer.from(pattern(100_000));
    const out = send(
      s,
      peer,
      Buffer.concat([
        Buffer.from(GET('/')),
        POST('/echo', big),
        Buffer.from('HEAD /bytes?n=5 HTTP/1.1\r\nHost: a\r\n\r\n'),
      ]),
    );
    const [hello, echo, head] = parseAll(out, [false, false, true]);
    assert.is(headerOf(hello!.headers, 'content-length'), '21');
    assert.is(hello!.body.toString(), 'Hello from wasmloop!\n');
    assert.is(headerOf(echo!.headers, 'transfer-encoding'), 'chunked');
    assert.ok(echo!.body.equals(big), 'the echo is the body');
    assert.is(headerOf(head!.headers, 'content-length'), '5');
    assert.is(head!.body.length, 0);
    assert.not.ok(peer.serverShutWrite);
  });

  test('HTTP/1.0 with an unknown length: the body runs to the close', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const big = Buffer.from(pattern(50_000));
    const req = Buffer.concat([
      Buffer.from(`POST /echo HTTP/1.0\r\nContent-Length: ${big.length}\r\n\r\n`),
      big,
    ]);
    const out = undated(send(s, peer, req));
    const head = out.slice(0, out.indexOf('\r\n\r\n'));
    assert.is(
      head,
      'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close',
    );
    assert.ok(Buffer.from(out.slice(head.length + 4), 'latin1').equals(big));
    assert.ok(peer.serverShutWrite);
  });

  test('a 10 MiB echo through a 16 KiB window: in order, and the guest holds a bounded amount', async () => {
    const s = await simLoop('demo', { flavour, window: 16 * 1024 });
    const peer = s.connect();
    const body = Buffer.from(pattern(10 * MiB, 3));
    peer.write(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`);
    peer.write(chunked(body, 256 * 1024));
    s.run();
    assert.ok(
      peer.unread > 8 * MiB,
      `the guest stopped reading while its output waited (${peer.unread} unread)`,
    );
    const out = pump(s, peer);
    const [res] = parseAll(out);
    assert.ok(res!.body.equals(body), 'echoed byte for byte');
    assert.ok(s.memoryBytes() < 8 * MiB, `guest memory ${s.memoryBytes()}`);
  });

  test('a 100 MiB upload is hashed as it streams: memory stays small', async () => {
    const s = await simLoop('inspect', { flavour });
    const peer = s.connect();
    peer.write(`PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${100 * MiB}\r\n\r\n`);
    const piece = Buffer.from(pattern(MiB, 9));
    let out = Buffer.alloc(0);
    for (let i = 0; i < 100; i++) {
      peer.write(piece);
      out = Buffer.concat([out, pump(s, peer)]);
    }
    const json = JSON.parse(parseAll(out)[0]!.body.toString('latin1'));
    assert.is(json.bodyLength, 100 * MiB);
    assert.is(json.bodySha256, sha256hex(Buffer.concat(Array(100).fill(piece))));
    assert.ok(s.memoryBytes() < 4 * MiB, `guest memory ${s.memoryBytes()}`);
  });

  test('a large response streams through onDrain behind a slow reader', async () => {
    const s = await simLoop('demo', { flavour, window: 8 * 1024 });
    const peer = s.connect();
    peer.write(GET('/bytes?n=5000000'));
    const out = pump(s, peer);
    const [res] = parseAll(out);
    assert.is(res!.body.length, 5_000_000);
    assert.is(res!.body.subarray(0, 30).toString(), 'abcdefghijklmnopqrstuvwxyzabcd');
    assert.ok(s.memoryBytes() < 4 * MiB, `guest memory ${s.memoryBytes()}`);
  });

  test('a head that does not arrive within header-timeout-ms is 408', async () => {
    const s = await simLoop('inspect', { flavour, limits: { 'header-timeout-ms': 1000 } });
    const slow = s.connect();
    slow.write('GET / HTTP/1.1\r\nHost: a\r\n');
    s.run();
    s.advance(600);
    slow.write('X: 1\r\n');
    s.run();
    s.advance(600);
    assert.is(
      undated(slow.readText()),
      'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    assert.ok(slow.serverShutWrite);
  });

  test('every response has a Date from the wall clock, read at most once a second', async () => {
    let wall = SIM_EPOCH_MS + 400;
    let reads = 0;
    const s = await simLoop('demo', { flavour, wallClock: () => (reads++, wall) });
    const peer = s.connect();
    const dateOf = (req: string) => parseAll(send(s, peer, req))[0]!.date;
    assert.is(dateOf(GET('/')), 'Thu, 01 Jan 2026 00:00:00 GMT');
    wall += 500; // the guest's second has 600 ms left: the cached line is reused
    assert.is(
      dateOf(GET('/nowhere')),
      'Thu, 01 Jan 2026 00:00:00 GMT',
      'the same second: the same line',
    );
    assert.is(reads, 1, 'one wall-clock read for two responses in one second');
    s.advance(600);
    wall += 600;
    assert.is(dateOf(GET('/')), 'Thu, 01 Jan 2026 00:00:01 GMT');
    // Calendar edges: leap days, centuries, the last second the format can write.
    for (const iso of [
      '1970-01-01T00:00:00Z',
      '2000-02-29T23:59:59Z',
      '2100-03-01T12:00:00Z',
      '2024-12-31T23:59:59Z',
      '9999-12-31T23:59:59Z',
    ]) {
      wall = Date.parse(iso);
      s.advance(1000);
      assert.is(dateOf(GET('/')), new Date(wall).toUTCString(), iso);
    }
    wall = Date.parse('+012000-01-01T00:00:00Z');
    s.advance(1000);
    assert.is(dateOf(GET('/')), 'Fri, 31 Dec 9999 23:59:59 GMT', 'clamped to four-digit years');
  });

  test('an idle keep-alive connection closes after keepalive-timeout-ms, silently', async () => {
    const s = await simLoop('inspect', { flavour, limits: { 'keepalive-timeout-ms': 500 } });
    const peer = s.connect();
    assert.is(parseAll(send(s, peer, GET('/')))[0]!.status, 200);
    s.advance(300);
    assert.not.ok(peer.serverClosed);
    s.advance(300);
    assert.ok(peer.serverClosed);
    assert.is(peer.readText(), '');
  });

  test('50 pipelined echoes of random sizes come back in order', async () => {
    const s = await simLoop('demo', { flavour, window: 32 * 1024 });
    const peer = s.connect();
    const bodies = Array.from({ length: 50 }, (_, i) =>
      Buffer.from(pattern((i * 7919) % 40_000, i + 1)),
    );
    const out = send(s, peer, Buffer.concat(bodies.map((b) => POST('/echo', b))));
    const res = parseAll(out);
    assert.is(res.length, 50);
    res.forEach((r, i) => assert.ok(r.body.equals(bodies[i]!), `response ${i}`));
  });

  // A regression test for assembly/conn/phases.ts afterSend: once a drain round finishes a stream,
  // the input behind it must be offered again, or the next request waits for bytes that a
  // pipelining client never sends.
  test('pipelined requests behind a response larger than the output buffer', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = send(s, peer, GET('/bytes?n=200000') + GET('/bytes?n=300000') + GET('/'));
    const res = parseAll(out);
    assert.equal(
      res.map((r) => r.body.length),
      [200_000, 300_000, 21],
    );
  });

  test('1000 keep-alive requests: inspect allocates nothing per request', async () => {
    const s = await simLoop('inspect', { flavour });
    const peer = s.connect();
    const req =
      'POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 60\r\n\r\n' +
      '--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n--b--';
    for (let i = 0; i < 100; i++) send(s, peer, req);
    const before = s.memoryBytes();
    for (let i = 0; i < 1000; i++) send(s, peer, req);
    assert.is(s.memoryBytes(), before);
    assert.is(s.loop.stats().requests, 1100);
  });

  test.run();
}
