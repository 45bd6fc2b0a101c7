/**
 * One loop per thread (`workers: N`): the pool serves through SO_REUSEPORT listeners, its
 * stats add up, close() drains every worker, and the watchdog replaces a worker whose guest
 * call never returns while the other workers keep serving.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('workers');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

async function echoOnce(port: number, text: string, ms = 3000): Promise<string> {
  const c = await RawClient.connect(port);
  await c.write(text);
  const got = (await c.read(Buffer.byteLength(text), ms)).toString();
  c.sock.destroy();
  return got;
}

test('two workers serve 100 connections and their stats add up', async () => {
  const { loop, port } = await startLoop('wasm/echo.wasm', { workers: 2 });
  const replies = await Promise.all(
    Array.from({ length: 100 }, (_, i) => echoOnce(port, `message ${i}\n`)),
  );
  replies.forEach((r, i) => assert.is(r, `message ${i}\n`));
  // Each worker publishes its counters every 50 ms: wait for a snapshot with all of them.
  const stats = await waitFor(() => {
    const s = loop.stats();
    return s.accepted === 100 && s.requests >= 100 && s.bytesIn === s.bytesOut ? s : undefined;
  }, 'stats to reach 100');
  assert.is(stats.requests >= 100, true);
  assert.is(stats.bytesIn, stats.bytesOut);
});

test('close() drains every worker: open connections get EOF and done resolves', async () => {
  const { loop, port } = await startLoop('wasm/echo.wasm', { workers: 2 });
  const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(port)));
  for (const c of clients) {
    await c.write('x');
    await c.read(1);
  }
  await loop.close({ graceMs: 2000 });
  for (const c of clients) await c.until(() => c.ended || c.closed, 'EOF from the draining worker');
  await loop.done;
  assert.is(loop.stats().accepted, 8);
});

test('in a worker, a trap closes the connection that caused it and its idle neighbour moves on', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop('wasm/test/evil.wasm', {
    workers: 1,
    onTrap: rec.onTrap,
  });
  const bystander = await RawClient.connect(port);
  await bystander.write('before\n');
  assert.is((await bystander.read(7)).toString(), 'before\n');
  const victim = await RawClient.connect(port);
  await victim.write('TRAP\n');
  await victim.until(() => victim.ended || victim.closed, 'the trapping connection to end');
  await waitFor(() => loop.stats().restarts === 1 || undefined, 'the restart to be published');
  await bystander.write('after\n');
  assert.is((await bystander.read(6)).toString(), 'after\n');
  assert.is(rec.traps.length, 1);
});

test('watchdog: a guest stuck in an endless loop is stopped, its worker replaced, others keep serving', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop('wasm/test/evil.wasm', {
    workers: 2,
    watchdogMs: 300,
    onTrap: rec.onTrap,
  });
  const stuck = await RawClient.connect(port);
  await stuck.write('SPIN\n');
  await waitFor(
    () => rec.traps.find((t) => /watchdog/.test(t.message)),
    'the watchdog to fire',
    5000,
  );
  await stuck.until(() => stuck.ended || stuck.closed, 'the stuck connection to be closed');
  await sleep(100); // the replacement starts at once (first death: no back-off)
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => echoOnce(port, `after ${i}\n`)),
  );
  replies.forEach((r, i) => assert.is(r, `after ${i}\n`));
  assert.ok(loop.stats().restarts >= 1);
  assert.ok(rec.traps.every((t) => t.restarting));
});

test('without the watchdog, the other worker still serves while one is stuck', async () => {
  const { port } = await startLoop('wasm/test/evil.wasm', { workers: 2, watchdogMs: 0 });
  const stuck = await RawClient.connect(port);
  await stuck.write('SPIN\n');
  await sleep(100);
  // SO_REUSEPORT hashes each new connection to one worker: some land on the free one.
  const outcomes = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => echoOnce(port, `p${i}\n`, 500)),
  );
  const served = outcomes.filter((o) => o.status === 'fulfilled').length;
  assert.ok(served > 0 && served < 20, `${served} of 20 served by the free worker`);
});

test('bad worker counts are refused', async () => {
  for (const workers of [-1, 1.5, 1000]) {
    try {
      await startLoop('wasm/echo.wasm', { workers });
      assert.unreachable(`workers: ${workers} was accepted`);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'ERR_WASMLOOP_USAGE');
    }
  }
});

test.run();
