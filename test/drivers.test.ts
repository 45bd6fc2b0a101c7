/**
 * Both drivers of a loop on the calling thread (workers: 0, the opt-in for trusted guests)
 * behave the same: 'libuv' (uv_poll, that mode's default) and 'blocking' (our own
 * epoll_wait, the worker threads' default). Deadlines must fire
 * in both (the blocking driver turns them into its epoll_wait timeout), a trapped guest is
 * restarted, and close() drains.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

for (const driver of ['libuv', 'blocking'] as const) {
  const test = suite(`driver ${driver}`);
  test.after.each(async () => {
    closeAllClients();
    await closeAllLoops();
  });

  test('echoes, and Node timers keep running beside it', async () => {
    const { port } = await startLoop('wasm/echo.wasm', { workers: 0, driver });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const c = await RawClient.connect(port);
    for (let i = 0; i < 50; i++) {
      await c.write(`ping ${i}\n`);
      assert.is((await c.read(`ping ${i}\n`.length)).toString(), `ping ${i}\n`);
    }
    await sleep(100);
    clearInterval(timer);
    assert.ok(ticks >= 3, `a 5 ms interval fired ${ticks} times`);
  });

  test('the idle timeout fires with no traffic at all', async () => {
    const { loop, port } = await startLoop('wasm/echo.wasm', {
      workers: 0,
      driver,
      limits: { 'idle-timeout-ms': 200 },
    });
    const c = await RawClient.connect(port);
    await c.until(() => c.ended || c.closed, 'the idle connection to be closed', 3000);
    assert.is(loop.stats().timeouts, 1);
  });

  test('a trapped guest is replaced and serves again', async () => {
    const rec = trapRecorder();
    const { loop, port } = await startLoop('wasm/test/evil.wasm', {
      workers: 0,
      driver,
      onTrap: rec.onTrap,
    });
    const victim = await RawClient.connect(port);
    await victim.write('TRAP\n');
    await victim.until(() => victim.ended || victim.closed, 'the trapping connection to close');
    await waitFor(() => loop.stats().restarts === 1 || undefined, 'the restart');
    const fresh = await RawClient.connect(port);
    await fresh.write('again');
    assert.is((await fresh.read(5)).toString(), 'again');
    assert.is(rec.traps.length, 1);
  });

  test('close() drains and resolves', async () => {
    const { loop, port } = await startLoop('wasm/echo.wasm', { workers: 0, driver });
    const c = await RawClient.connect(port);
    await c.write('x');
    await c.read(1);
    await loop.close({ graceMs: 1000 });
    await c.until(() => c.ended || c.closed, 'EOF on close');
    assert.is(loop.stats().accepted, 1);
  });

  test.run();
}
