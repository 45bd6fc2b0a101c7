/**
 * The HTTP SDK over the simulated kernel (wasm/demo.wasm): a handler that traps costs only the
 * request that caused it. Its connection gets a 500 (or, once its head went out, a short
 * body), connections between requests move to a fresh instance, and traps that requests cause
 * never stop the server. Other handler errors: test/http-sdk-errors.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop, type SimLoop } from './helpers/sim.ts';
import { GET, send } from './helpers/http-sim.ts';
import { parseAll, undated } from './helpers/http-inspect.ts';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';
import { Random } from '../host/kernel/sim/random.ts';

/** What the host sends for the SDK when a handler traps (assembly/http/server.ts TRAP_REPLY). */
const TRAP_500 =
  'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** A peer with requests to send pipelined, in pieces: `at` bytes of them are sent. */
interface Pipeliner {
  peer: SimPeer;
  names: string[];
  bytes: Buffer;
  at: number;
}

/** 8 peers, each with 1 to 6 requests. */
function pipeliners(s: SimLoop, rng: Random): Pipeliner[] {
  return Array.from({ length: 8 }, (_, i) => {
    const names = Array.from({ length: rng.int(1, 6) }, (_, k) => `p${i}-${k}`);
    return {
      peer: s.connect(),
      names,
      bytes: Buffer.from(names.map((n) => GET(`/hello?name=${n}`)).join('')),
      at: 0,
    };
  });
}

/** Ticks until the crashing request was sent (at tick `crashAt`) and every peer sent all its
 *  requests, each peer sending a random piece or nothing per tick; restarts the guest after
 *  each trap. Returns the crashing peer. */
async function interleave(
  s: SimLoop,
  rng: Random,
  peers: Pipeliner[],
  crashAt: number,
): Promise<SimPeer> {
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
  if (crash === null) throw new Error('the crashing request was never sent');
  return crash;
}

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk traps (${flavour})`);

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
      const peers = pipeliners(s, rng);
      const crash = await interleave(s, rng, peers, rng.int(1, 20));
      s.run();
      assert.is(s.traps.length, 1, `seed ${seed}: one trap`);
      assert.is(crash.readText(), TRAP_500, `seed ${seed}: the crash gets 500`);
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

  test.run();
}
