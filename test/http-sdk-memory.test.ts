/**
 * What the HTTP SDK allocates, measured with the allocator itself (test/guests/sdk-heap.ts: the
 * benchmark's app, wasm/greet.wasm, with a probe of the `stub` runtime's heap top): nothing per
 * request once warm, whether requests come one at a time or pipelined, and nothing per idle
 * keep-alive connection, so 10,000 idle connections cost the core's table and no more.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop, type SimLoop } from './helpers/sim.ts';
import { GET, send } from './helpers/http-sim.ts';

/** Allocations since the last probe, less the probe's own block (measured on an idle guest). */
function heapMeter(s: SimLoop): () => number {
  const exports = s.loop.instance!.exports as unknown as { heap_probe(): number };
  const probe = () => exports.heap_probe() >>> 0;
  const a = probe();
  const own = probe() - a;
  let last = probe();
  return () => {
    const now = probe();
    const grew = now - last - own;
    last = now;
    return grew;
  };
}

const OK = 'HTTP/1.1 200 OK\r\n';

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk memory (${flavour})`);

  test('a warm SDK app allocates nothing per request, one at a time or pipelined', async () => {
    const s = await simLoop('test/sdk-heap', { flavour });
    const peer = s.connect();
    for (let i = 0; i < 20; i++) send(s, peer, GET('/') + GET('/missing'));
    const grown = heapMeter(s);
    for (let i = 0; i < 200; i++) assert.ok(send(s, peer, GET('/')).toString().startsWith(OK));
    assert.is(grown(), 0, 'one at a time');
    const out = send(s, peer, GET('/').repeat(64)).toString('latin1');
    assert.is(out.split(OK).length - 1, 64);
    assert.is(grown(), 0, 'pipelined');
    assert.is(s.loop.stats().requests, 20 * 2 + 200 + 64);
  });

  test('an idle keep-alive connection holds no request or response state', async () => {
    const s = await simLoop('test/sdk-heap', { flavour });
    const first = s.connect();
    send(s, first, GET('/'));
    const grown = heapMeter(s);
    const peers = [];
    for (let i = 0; i < 100; i++) {
      const peer = s.connect();
      assert.ok(send(s, peer, GET('/')).toString().startsWith(OK));
      peers.push(peer); // kept open, idle between requests
    }
    assert.is(grown(), 0, 'heap bytes for 100 more idle connections');
    assert.is(s.loop.stats().requests, 101);
  });

  test.run();
}
