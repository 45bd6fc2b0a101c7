/**
 * The HTTP SDK over the simulated kernel (wasm/demo.wasm, wasm/inspect.wasm): response
 * framing, streaming both ways with backpressure, bodies far larger than guest memory,
 * handler errors, Expect: 100-continue answered early, timeouts, and memory that does not
 * grow per request.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, pattern, simLoop } from './helpers/sim.ts';
import { chunked, GET, headerOf, POST, pump, send } from './helpers/http-sim.ts';
import { parseAll, sha256hex, undated } from './helpers/http-inspect.ts';
import { SIM_EPOCH_MS, type SimPeer } from '../host/kernel/sim/kernel.ts';
import { Random } from '../host/kernel/sim/random.ts';

const MiB = 1 << 20;
/** What the host sends for the SDK when a handler traps (assembly/http/server.ts TRAP_REPLY). */
const TRAP_500 =
  'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

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

  test('handler errors answer 500 and close that connection; the others carry on', async () => {
    const s = await simLoop('demo', { flavour });
    const other = s.connect();
    assert.is(parseAll(send(s, other, GET('/')))[0]!.status, 200);
    for (const path of ['/fail', '/forget']) {
      const peer = s.connect();
      const out = send(s, peer, GET(path) + GET('/'));
      assert.is(
        undated(out),
        'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        path,
      );
      assert.ok(peer.serverShutWrite, `${path}: closed`);
    }
    assert.is(
      parseAll(send(s, other, GET('/')))[0]!.status,
      200,
      'the first connection still works',
    );
    assert.equal(s.traps, []);
  });

  test('a handler that traps gets 500; connections between requests move to a fresh instance', async () => {
    const s = await simLoop('demo', { flavour, window: 64 * 1024 });
    const idle = s.connect(); // keep-alive, between requests
    assert.is(parseAll(send(s, idle, GET('/')))[0]!.status, 200);
    const partial = s.connect(); // half a head in the guest's input buffer
    partial.write('GET /hello?name=Ada HTTP/1.1\r\nHo');
    s.run();
    const streaming = s.connect(); // a response in progress: its state dies with the instance
    streaming.setWindow(1024);
    streaming.write(GET('/bytes?n=10000000'));
    s.run();
    const crash = s.connect();
    crash.write(GET('/crash') + GET('/'));
    s.run();
    assert.is(s.traps.length, 1);
    assert.match(s.traps[0]!.message, 'the /crash handler crashed');
    assert.is(crash.readText(), TRAP_500, 'the trapping request: 500, nothing after it');
    assert.ok(crash.serverShutWrite, 'then the connection closes');
    assert.ok(streaming.serverClosed, 'a response in progress cannot move');
    assert.not.ok(idle.serverClosed || partial.serverClosed);
    await new Promise((r) => setTimeout(r, 10)); // the restart is a 0 ms timer
    s.run();
    assert.is(s.loop.stats().restarts, 1);
    assert.is(
      parseAll(send(s, idle, GET('/')))[0]!.body.toString(),
      'Hello from wasmloop!\n',
      'the idle connection is served on',
    );
    assert.is(
      parseAll(send(s, partial, 'st: a\r\n\r\n'))[0]!.body.toString(),
      'Hello, Ada!\n',
      'the half-sent request completes',
    );
    crash.close();
    s.run();
    assert.ok(crash.serverClosed, "the lingering connection closes at the peer's EOF");
  });

  test('a trap elsewhere: a response still owed to a slow reader is sent, then its connection moves', async () => {
    const s = await simLoop('demo', { flavour });
    const slow = s.connect();
    slow.setWindow(1024);
    slow.write(GET('/bytes?n=30000')); // fits the core's output buffer: ended, 29 KiB still owed
    s.run();
    slow.setWindow(1 << 20); // room again, but the guest has not been told (no tick)
    const crash = s.connect();
    crash.write(GET('/crash'));
    s.run();
    assert.is(s.traps.length, 1);
    await new Promise((r) => setTimeout(r, 10));
    s.run();
    const [first] = parseAll(Buffer.from(slow.read()));
    assert.is(
      first!.body.length,
      30000,
      'the whole response, the host sending what the guest owed',
    );
    assert.is(parseAll(send(s, slow, GET('/')))[0]!.status, 200, 'then served by the new instance');
  });

  test('a trap in the middle of a batch: requests read in the same recv_many are all answered', async () => {
    const s = await simLoop('demo', { flavour });
    const peers = Array.from({ length: 6 }, () => s.connect());
    s.run();
    // One tick: every request below is read by one batch of recvs before any is handled, and
    // the answers of those handled before the crash wait for one send_many.
    peers.forEach((p, i) => p.write(GET(i === 3 ? '/crash' : `/hello?name=p${i}`)));
    s.run();
    assert.is(s.traps.length, 1);
    await new Promise((r) => setTimeout(r, 10));
    s.run();
    peers.forEach((p, i) => {
      if (i === 3) {
        assert.is(p.readText(), TRAP_500);
        return;
      }
      const [res] = parseAll(Buffer.from(p.read()));
      assert.is(res?.body.toString(), `Hello, p${i}!\n`, `peer ${i}`);
    });
  });

  test('random interleavings: a trap costs only the request that caused it (30 seeds)', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Random(seed);
      const s = await simLoop('demo', { flavour, seed });
      // 8 peers, each with 1 to 6 requests, sent pipelined in random pieces over random ticks.
      const peers = Array.from({ length: 8 }, (_, i) => {
        const names = Array.from({ length: rng.int(1, 6) }, (_, k) => `p${i}-${k}`);
        return {
          peer: s.connect(),
          names,
          bytes: Buffer.from(names.map((n) => GET(`/hello?name=${n}`)).join('')),
          at: 0,
        };
      });
      const crashAt = rng.int(1, 20);
      let crash: SimPeer | null = null;
      let traps = 0;
      for (
        let tick = 0;
        tick < 400 && (crash === null || peers.some((p) => p.at < p.bytes.length));
        tick++
      ) {
        if (tick === crashAt) (crash = s.connect()).write(GET('/crash'));
        for (const p of peers) {
          if (p.at >= p.bytes.length || !rng.chance(0.5)) continue;
          const n = rng.int(1, 120);
          p.peer.write(p.bytes.subarray(p.at, p.at + n));
          p.at += n;
        }
        s.run();
        if (s.traps.length > traps) {
          traps = s.traps.length;
          await new Promise((r) => setTimeout(r, 2)); // the restart is a 0 ms timer
          s.run();
        }
      }
      s.run();
      assert.is(s.traps.length, 1, `seed ${seed}: one trap`);
      assert.is(crash!.readText(), TRAP_500, `seed ${seed}: the crash gets 500`);
      for (const [i, p] of peers.entries()) {
        const got = parseAll(Buffer.from(p.peer.read())).map((r) => r.body.toString());
        assert.equal(
          got,
          p.names.map((n) => `Hello, ${n}!\n`),
          `seed ${seed}, peer ${i}`,
        );
        assert.not.ok(p.peer.serverClosed, `seed ${seed}, peer ${i}: still open`);
      }
    }
  });

  test('a handler that traps after its head went out: the connection closes, no 500', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = send(s, peer, GET('/crash?late=1'));
    assert.is(
      undated(out),
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345',
      'what was written goes out, short',
    );
    assert.ok(peer.serverShutWrite, 'then FIN');
    assert.is(s.traps.length, 1);
  });

  test('traps that requests cause never stop the server: 8 in a row, then it serves', async () => {
    const s = await simLoop('demo', { flavour });
    const idle = s.connect();
    for (let i = 0; i < 8; i++) {
      const peer = s.connect();
      assert.is(send(s, peer, GET('/crash')).toString('latin1'), TRAP_500, `crash ${i}`);
      await new Promise((r) => setTimeout(r, 5));
      s.run();
    }
    assert.is(s.traps.length, 8);
    assert.is(s.loop.stats().restarts, 8);
    assert.is(parseAll(send(s, idle, GET('/')))[0]!.status, 200);
  });

  test('a header value with CR LF from the request cannot split the response: 500', async () => {
    const s = await simLoop('demo', { flavour });
    const ok = s.connect();
    assert.is(
      undated(send(s, ok, GET('/go?to=/there'))),
      'HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 0\r\n\r\n',
    );
    const evil = s.connect();
    const out = undated(send(s, evil, GET('/go?to=/x%0D%0ASet-Cookie:%20a=b')));
    assert.is(
      out,
      'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
  });

  test('a handler that fails after its head went out aborts: the client sees a short body', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = undated(send(s, peer, GET('/half') + GET('/')));
    assert.is(out, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345');
    assert.ok(peer.serverShutWrite);
  });

  test('Expect: 100-continue answered before the body: no 100, and the connection closes', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = send(
      s,
      peer,
      'POST /fail HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    );
    assert.is(
      undated(out),
      'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    const peer2 = s.connect();
    const out2 = undated(
      send(
        s,
        peer2,
        'POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
      ),
    );
    assert.is(
      out2,
      'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nNot found\n',
    );
    assert.ok(peer2.serverShutWrite);
  });

  test('collect() past its maximum is 413', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const ok = send(s, peer, POST('/count', 'a\nb\n'));
    assert.is(parseAll(ok)[0]!.body.toString(), '4 bytes, 2 lines\n');
    const out = send(s, peer, POST('/count', Buffer.alloc(MiB + 1, 0x61)));
    assert.is(
      undated(out),
      'HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
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
