/**
 * Resource limits in pure wasm: under max-memory-size the buffer pool stops short of the cap,
 * so connections that need a buffer are closed one by one instead of the guest trapping, and
 * the rest keep being served.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, pattern, simLoop } from './helpers/sim.ts';

for (const flavour of FLAVOURS) {
  const test = suite(`sim limits (${flavour})`);

  test('max-memory-size: past the cap, connections needing buffers are closed, not the guest', async () => {
    const cap = 4 << 20;
    const s = await simLoop('echo', { flavour, window: 16, limits: { 'max-memory-size': cap } });
    // Peers that never read hold an output buffer each (and input behind it).
    const hogs = Array.from({ length: 80 }, () => s.connect());
    for (const p of hogs) p.write(pattern(70_000));
    s.run();
    assert.is(s.traps.length, 0, 'no trap');
    assert.ok(s.memoryBytes() <= cap, `memory ${s.memoryBytes()} stays within the cap`);
    const closed = hogs.filter((p) => p.serverClosed).length;
    assert.ok(
      closed > 0 && closed < hogs.length,
      `${closed} of ${hogs.length} closed for want of a buffer`,
    );
    // Freeing the hogs lets new work through.
    for (const p of hogs) p.close();
    s.run();
    const fresh = s.connect();
    fresh.write('after the storm');
    s.run();
    assert.is(fresh.readText(), 'after the storm');
    assert.is(s.loop.stats().buffersInUse, 0);
  });

  test.run();
}
