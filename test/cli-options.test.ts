/**
 * CLI options reach the loop: -W limits (a typo is refused; a real limit changes what the
 * guest does), --workers with --stats, and --driver.
 */
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { killAllChildren, runCommand, startChild, type Child } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('cli options');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

/** Starts `wasmloop run MODULE --tcplisten 127.0.0.1:0 ...extra` and returns it with its port. */
async function serve(module: string, extra: string[]): Promise<{ child: Child; port: number }> {
  const child = startChild(
    process.execPath,
    ['bin/wasmloop.js', 'run', module, '--tcplisten', '127.0.0.1:0', ...extra],
    { cwd: ROOT },
  );
  const m = await waitFor(
    () =>
      /on 127\.0\.0\.1:(\d+)$/m.exec(child.stderr()) ??
      (child.proc.exitCode !== null ? null : undefined),
    'the serving line',
    10000,
  );
  if (m === null) throw new Error(`wasmloop exited: ${child.stderr()}`);
  return { child, port: Number(m[1]) };
}

async function echo(port: number, text: string): Promise<string> {
  const c = await RawClient.connect(port);
  await c.write(text);
  const got = (await c.read(text.length)).toString();
  c.sock.destroy();
  return got;
}

test('-W with an unknown limit: status 64, one line naming it', async () => {
  const r = await runCommand(
    process.execPath,
    [
      'bin/wasmloop.js',
      'run',
      'wasm/echo.wasm',
      '--tcplisten',
      '127.0.0.1:0',
      '-W',
      'max-conections=1',
    ],
    { cwd: ROOT },
  );
  assert.is(r.code, 64);
  assert.match(r.stderr, /^wasmloop: unknown limit 'max-conections'/);
});

test('-W max-connections=1 reaches the guest: a second client waits until the first leaves', async () => {
  const { port } = await serve('wasm/echo.wasm', ['-Wmax-connections=1']);
  const first = await RawClient.connect(port);
  await first.write('one');
  assert.is((await first.read(3)).toString(), 'one');
  const second = await RawClient.connect(port);
  await second.write('two');
  await sleep(300);
  assert.is(second.received, 0, 'not accepted while the table is full');
  first.sock.destroy();
  assert.is((await second.read(3, 3000)).toString(), 'two');
});

test('--workers 2 --stats: served by the pool, counted in the stats line', async () => {
  const { child, port } = await serve('wasm/echo.wasm', ['--workers', '2', '--stats']);
  for (let i = 0; i < 20; i++) assert.is(await echo(port, `w${i}`), `w${i}`);
  await waitFor(
    () => /total_req=20 /.test(child.stderr()) || undefined,
    'a stats line with 20 requests',
    5000,
  );
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

test('--driver libuv serves too; a bad driver is status 64', async () => {
  const { child, port } = await serve('wasm/echo.wasm', ['--driver', 'libuv']);
  assert.is(await echo(port, 'uv'), 'uv');
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
  const r = await runCommand(
    process.execPath,
    ['bin/wasmloop.js', 'run', 'wasm/echo.wasm', '--tcplisten', '127.0.0.1:0', '--driver', 'fast'],
    { cwd: ROOT },
  );
  assert.is(r.code, 64);
});

test.run();
