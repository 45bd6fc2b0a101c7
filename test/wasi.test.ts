/**
 * Guests that import WASI preview1 next to the wasmloop ABI: the imports link through
 * @wasmer/wasi, the guest sees only the environment it was given (--env), and what it writes
 * to stdout reaches the host's stdout while it serves, not only at exit.
 */
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';

const test = suite('wasi guests');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

test('WASI stdout is forwarded promptly and --env is the whole environment', async () => {
  process.env.WASMLOOP_TEST_SECRET = 'host-only';
  const child = startChild(
    process.execPath,
    [
      'bin/wasmloop.js',
      'run',
      'wasm/test/wasi-log.wasm',
      '--tcplisten',
      '127.0.0.1:0',
      '--env',
      'GREETING=hi there',
    ],
    { cwd: ROOT },
  );
  const m = await waitFor(
    () => /on 127\.0\.0\.1:(\d+)$/m.exec(child.stderr()) ?? undefined,
    'the serving line',
    10000,
  );
  const port = Number(m[1]);
  const a = await RawClient.connect(port);
  await waitFor(() => child.stdout().includes('open 1\n'), 'the first "open" line on stdout');
  const b = await RawClient.connect(port);
  await waitFor(() => child.stdout().includes('open 2\n'), 'the second "open" line on stdout');
  await a.write('ENV\n');
  assert.is((await a.read('hi there\n'.length)).toString(), 'hi there\n');
  await b.write('echo\n');
  assert.is((await b.read(5)).toString(), 'echo\n');
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
  assert.not.match(child.stdout(), /host-only/);
});

test.run();
