/**
 * Runaway guests in every mode: a guest call that never returns is stopped by the watchdog,
 * and whoever ends its thread closes every fd the host held for it, including connections
 * saved from a trap and waiting to be adopted (host/driver/handoff.ts).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLoop, WasmloopError } from '../host/index.ts';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { killAllChildren, runCommand, startChild } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('watchdog');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

const countFds = () => readdirSync('/proc/self/fd').length;

for (const [guest, where] of [
  ['spin-adopt', 'wl_adopt'],
  ['spin-salvage', 'wl_salvage'],
]) {
  test(`worker mode: connections saved from a trap get FIN when ${where} spins and the worker is killed`, async () => {
    const rec = trapRecorder();
    const { loop, port } = await startLoop(`wasm/test/${guest}.wasm`, {
      workers: 1,
      watchdogMs: 300,
      onTrap: rec.onTrap,
    });
    const idle: RawClient[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await RawClient.connect(port);
      await c.write(`idle ${i}\n`);
      assert.is((await c.read(7)).toString(), `idle ${i}\n`);
      idle.push(c);
    }
    const fdsBefore = countFds();
    const victim = await RawClient.connect(port);
    await victim.write('TRAP\n');
    await waitFor(
      () => rec.traps.find((t) => /watchdog/.test(t.message)),
      'the watchdog to fire',
      5000,
    );
    // Some idle connections were on their way to the next instance when it spun. All must end.
    for (const c of [...idle, victim])
      await c.until(() => c.ended || c.closed, 'FIN for a saved connection', 5000);
    closeAllClients();
    // No fd of the killed thread is left behind (the client sockets are gone too).
    await waitFor(
      () => countFds() <= fdsBefore - idle.length || undefined,
      `fds back to ${fdsBefore - idle.length} (now ${countFds()})`,
      5000,
    );
    await waitFor(() => loop.stats().restarts >= 1 || undefined, 'the restart to be counted');
  });
}

test('default mode: a handler that never returns is stopped, and the program keeps running meanwhile', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop('wasm/test/evil.wasm', {
    watchdogMs: 300,
    onTrap: rec.onTrap,
  });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const stuck = await RawClient.connect(port);
  await stuck.write('SPIN\n');
  await waitFor(
    () => rec.traps.find((t) => /watchdog/.test(t.message)),
    'the watchdog to fire',
    5000,
  );
  clearInterval(timer);
  assert.ok(ticks >= 10, `a 10 ms interval kept firing while the guest spun (${ticks} ticks)`);
  await stuck.until(() => stuck.ended || stuck.closed, 'the stuck connection to be closed');
  await sleep(100); // the replacement starts at once (first death: no back-off)
  const again = await RawClient.connect(port);
  await again.write('after\n');
  assert.is((await again.read(6, 3000)).toString(), 'after\n');
  await waitFor(() => loop.stats().restarts >= 1 || undefined, 'the restart to be counted');
});

test('default mode: a wl_init that never returns rejects createLoop with ERR_WASMLOOP_INIT, nothing left open', async () => {
  const fdsBefore = countFds();
  const started = performance.now();
  try {
    await createLoop({
      module: 'wasm/test/spin-init.wasm',
      listen: [{ port: 0 }],
      watchdogMs: 300,
    });
    assert.unreachable('createLoop resolved');
  } catch (err) {
    assert.instance(err, WasmloopError);
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_INIT');
    assert.match((err as Error).message, /watchdog/);
  }
  assert.ok(
    performance.now() - started < 8000,
    'rejected soon after the watchdog period (worker start-up included)',
  );
  await waitFor(
    () => countFds() <= fdsBefore || undefined,
    `fds back to ${fdsBefore} (now ${countFds()})`,
    3000,
  );
});

for (const workers of ['1', '2']) {
  test(`CLI --workers ${workers}: a wl_init that never returns exits 68`, async () => {
    const r = await runCommand(
      process.execPath,
      [
        'bin/wasmloop.js',
        'run',
        'wasm/test/spin-init.wasm',
        '--tcplisten',
        '127.0.0.1:0',
        '--workers',
        workers,
        '--watchdog-ms',
        '300',
      ],
      { cwd: ROOT, timeoutMs: 15000 },
    );
    assert.is(r.code, 68, r.stderr);
    assert.match(r.stderr, /wl_init.*watchdog/);
  });
}

/** The CLI in its default mode, watchdog off, with one connection spinning its guest. */
async function spinningChild(graceMs: number) {
  const child = startChild(
    process.execPath,
    [
      ...['bin/wasmloop.js', 'run', 'wasm/test/evil.wasm', '--tcplisten', '127.0.0.1:0'],
      ...['--watchdog-ms', '0', '--grace-ms', String(graceMs)],
    ],
    { cwd: ROOT },
  );
  const m = await waitFor(
    () => /on 127\.0\.0\.1:(\d+)$/m.exec(child.stderr()) ?? undefined,
    'the serving line',
    10000,
  );
  const stuck = await RawClient.connect(Number(m[1]));
  await stuck.write('SPIN\n');
  await sleep(200);
  return child;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`CLI default mode: ${signal} while the guest spins (watchdog off) exits within the grace period + 1 s`, async () => {
    const child = await spinningChild(500);
    const sent = performance.now();
    child.proc.kill(signal);
    assert.is(await child.exited(5000), 0);
    const took = performance.now() - sent;
    assert.ok(
      took < 500 + 1000 + 2000,
      `exited ${Math.round(took)} ms after ${signal} (grace 500 ms + 1 s, + 2 s margin for a loaded machine)`,
    );
  });
}

test('CLI default mode: a second signal closes at once, even while the guest spins', async () => {
  const child = await spinningChild(20000);
  child.proc.kill('SIGTERM');
  await waitFor(
    () => /closing \(grace/.test(child.stderr()) || undefined,
    'the first signal to be seen',
  );
  const sent = performance.now();
  child.proc.kill('SIGINT');
  assert.is(await child.exited(8000), 0);
  const took = performance.now() - sent;
  assert.ok(
    took < 1000 + 2500,
    `exited ${Math.round(took)} ms after the second signal (grace 0 + 1 s, + margin; the first asked for 20 s)`,
  );
  assert.match(child.stderr(), 'SIGINT: closing now');
});

for (const workers of [0, 1]) {
  test(`workers: ${workers}: close() again with a shorter grace period ends the drain sooner`, async () => {
    const { loop, port } = await startLoop('wasm/hello.wasm', { workers });
    const slow = await RawClient.connect(port);
    await slow.write('GET / HTTP/1.1\r\nHost: a\r\n'); // a head still arriving: the drain waits for it
    await sleep(100);
    void loop.close({ graceMs: 20000 });
    await sleep(200);
    const started = performance.now();
    await loop.close({ graceMs: 0 });
    const took = performance.now() - started;
    assert.ok(took < 3000, `closed ${Math.round(took)} ms after close({ graceMs: 0 })`);
    await slow.until(() => slow.ended || slow.closed, 'the slow connection to be closed');
  });
}

test.run();
