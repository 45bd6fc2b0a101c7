/**
 * Both drivers of a loop on the calling thread (workers: 0, the opt-in for trusted guests)
 * behave the same: 'libuv' (uv_poll, that mode's default) and 'blocking' (our own
 * epoll_wait, the worker threads' default). Deadlines must fire
 * in both (the blocking driver turns them into its epoll_wait timeout), a trapped guest is
 * restarted, close() drains, and constant load does not starve Node's own callbacks (the
 * libuv driver's rounds per wake-up are bounded; the blocking driver yields every 20 ms).
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

/** Floods an echo server from another thread for `ms`: `conns` connections, each writing as
 *  fast as the socket takes it and reading whatever comes back, so some connection is always
 *  readable. Posts the bytes echoed when it ends (the load stops on its own, so a starved main
 *  thread cannot hang the test). */
const FLOOD = `
  const { parentPort, workerData: { port, conns, ms } } = require('node:worker_threads');
  const net = require('node:net');
  const chunk = Buffer.alloc(16384, 120);
  let bytes = 0;
  const socks = Array.from({ length: conns }, () => {
    const s = net.connect(port, '127.0.0.1');
    const pump = () => { while (s.write(chunk)); };
    s.on('connect', pump).on('drain', pump).on('error', () => {});
    s.on('data', (d) => { bytes += d.length; });
    return s;
  });
  setTimeout(() => { for (const s of socks) s.destroy(); parentPort.postMessage(bytes); }, ms);`;

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

  test('under constant load from another thread, immediates and timers still run', async () => {
    const { port } = await startLoop('wasm/echo.wasm', { workers: 0, driver });
    const flood = new Worker(FLOOD, { eval: true, workerData: { port, conns: 64, ms: 1500 } });
    const echoed = new Promise<number>((r) => flood.once('message', r));
    let immediates = 0;
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    let flooding = true;
    const spin = () => void (immediates++, flooding && setImmediate(spin));
    setImmediate(spin);
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const bytes = await echoed;
    flooding = false;
    clearInterval(timer);
    await flood.terminate();
    assert.ok(bytes > 1 << 20, `the load was real: ${bytes} bytes echoed`);
    assert.ok(immediates >= 10 && ticks >= 10, `${immediates} immediates, ${ticks} ticks`);
    assert.ok(maxGap < 500, `a 5 ms interval waited ${maxGap.toFixed(0)} ms at most`);
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
