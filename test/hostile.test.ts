/**
 * Hostile peers over real sockets: descriptor exhaustion (EMFILE under a low `ulimit -n`) must
 * not spin the CPU and must recover, and 1,000 slowloris connections must neither stop normal
 * clients from being served nor outlive the header timeout.
 */
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('hostile peers');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

const REQUEST = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

test('EMFILE: accept backs off instead of spinning, and recovers when descriptors free up', async () => {
  const child = startChild(
    'bash',
    [
      '-c',
      'ulimit -n 64 && exec node bin/wasmloop.js run wasm/echo.wasm --tcplisten 127.0.0.1:0 --stats',
    ],
    { cwd: ROOT },
  );
  const m = await waitFor(
    () => /on 127\.0\.0\.1:(\d+)$/m.exec(child.stderr()) ?? undefined,
    'the serving line',
    10000,
  );
  const port = Number(m[1]);
  const clients = await Promise.all(Array.from({ length: 100 }, () => RawClient.connect(port)));
  await sleep(2200);
  const lines = child.stderr().match(/accept_errors=\d+/g) ?? [];
  const errors = Number(lines.at(-1)?.split('=')[1]);
  assert.ok(errors > 0, 'the server did run out of descriptors');
  // With a 100 ms back-off, ~10 failed accepts a second; a spinning loop makes thousands.
  assert.ok(errors < 100, `${errors} failed accepts in ~2 s`);
  for (const c of clients) c.sock.destroy();
  const late = await RawClient.connect(port);
  await late.write('recovered');
  assert.is((await late.read(9, 5000)).toString(), 'recovered');
});

test('1,000 slowloris connections: normal clients are served, the slow ones are closed by the header timeout', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    limits: { 'header-timeout-ms': 500 },
  });
  const slow = await Promise.all(Array.from({ length: 1000 }, () => RawClient.connect(port)));
  await Promise.all(slow.map((c) => c.write('GET / HTTP/1.1\r\nX-Slow: ')));
  const normal = await RawClient.connect(port);
  for (let i = 0; i < 20; i++) {
    await normal.write(REQUEST);
    assert.match((await normal.read(78, 2000)).toString(), /Hello, World!$/);
  }
  await Promise.all(
    slow.map((c) =>
      c.until(() => c.ended || c.closed, 'the server to close a slowloris connection', 5000),
    ),
  );
  assert.ok(
    slow.every((c) => c.all().length === 0),
    'no slowloris connection got a response',
  );
  const stats = await waitFor(() => {
    const s = loop.stats();
    return s.timeouts >= 1000 ? s : undefined;
  }, 'the timeouts to be counted');
  assert.ok(stats.open <= 1, `only the normal client is left (${stats.open} open)`);
});

test.run();
