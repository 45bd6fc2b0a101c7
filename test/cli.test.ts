/**
 * The `wasmloop` command (bin/wasmloop.js over dist/), as a child process: serving, shutting
 * down on SIGTERM/SIGINT with status 0, and one stderr line plus a distinct status per failure.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';
import { killAllChildren, runCommand, startChild, type Child } from './helpers/net-spawn.ts';
import { guestModule } from './helpers/wasm-asm.ts';
import { MAX_EVENTS } from '../host/kernel/contract.ts';

const test = suite('cli');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/wasmloop.js';
const tmp = mkdtempSync(join(tmpdir(), 'wasmloop-cli-'));
const servers: net.Server[] = [];

test.after.each(() => {
  closeAllClients();
  killAllChildren();
  for (const s of servers.splice(0)) s.close();
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const wasmloop = (args: string[]) => runCommand(process.execPath, [BIN, ...args], { cwd: ROOT });

/** Starts `wasmloop run <module> --tcplisten 127.0.0.1:0` and waits for its "serving" line. */
async function serve(module: string): Promise<{ child: Child; port: number }> {
  const child = startChild(process.execPath, [BIN, 'run', module, '--tcplisten', '127.0.0.1:0'], {
    cwd: ROOT,
  });
  const re = new RegExp(
    `^wasmloop: serving ${module.replace(/[.]/g, '\\.')} on 127\\.0\\.0\\.1:(\\d+)$`,
    'm',
  );
  const m = await waitFor(
    () => re.exec(child.stderr()) ?? (child.proc.exitCode !== null ? null : undefined),
    'the "serving" line',
    10000,
  );
  if (m === null) throw new Error(`wasmloop exited early: ${child.stderr()}`);
  const port = Number(m[1]);
  assert.ok(port > 0 && port < 65536, `port ${port}`);
  return { child, port };
}

/** A failing command: its status, and exactly one line on stderr that starts with "wasmloop:". */
async function fails(args: string[], status: number): Promise<string> {
  const r = await wasmloop(args);
  assert.is(r.code, status, `status of wasmloop ${args.join(' ')}; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n');
  assert.is(lines.length, 2, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  assert.is(lines[1], '', 'the line ends with a newline');
  assert.match(lines[0]!, /^wasmloop: \S/);
  return lines[0]!;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`run wasm/echo.wasm echoes, and ${signal} closes the open connection and exits 0`, async () => {
    const { child, port } = await serve('wasm/echo.wasm');
    const c = await RawClient.connect(port);
    await c.write('hello through the cli\n');
    assert.is((await c.read(22)).toString(), 'hello through the cli\n');
    child.proc.kill(signal);
    assert.is(await child.exited(10000), 0, `exit status; stderr: ${child.stderr()}`);
    await c.until(() => c.ended || c.closed, 'the connection to be closed');
    assert.ok(c.ended, 'closed with FIN');
    assert.match(child.stderr(), `wasmloop: ${signal}: closing`);
  });
}

test('run wasm/hello.wasm serves curl', async () => {
  const { child, port } = await serve('wasm/hello.wasm');
  const r = await runCommand('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`]);
  assert.is(r.code, 0, `curl: ${r.stderr}`);
  assert.is(r.stdout, 'Hello, World!');
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(10000), 0);
});

test('a module path that does not exist: status 66', async () => {
  const line = await fails(['run', join(tmp, 'missing.wasm'), '--tcplisten', '127.0.0.1:0'], 66);
  assert.match(line, 'missing.wasm');
});

test('a file that is not wasm: status 65', async () => {
  const file = join(tmp, 'text.wasm');
  writeFileSync(file, 'plain text, not a module\n');
  await fails(['run', file, '--tcplisten', '127.0.0.1:0'], 65);
});

for (const workers of [[], ['--workers', '1']]) {
  test(`an event ring larger than the host waits for: status 67 at load ${workers.join(' ')}`, async () => {
    const file = join(tmp, 'big-ring.wasm');
    // 65537 records of 12 bytes at 1024 need 13 pages.
    writeFileSync(file, guestModule({ eventsCap: MAX_EVENTS + 1, memory: { min: 13 } }));
    const line = await fails(['run', file, '--tcplisten', '127.0.0.1:0', ...workers], 67);
    assert.match(
      line,
      `event ring holds ${MAX_EVENTS + 1} events; this host waits for at most ${MAX_EVENTS}`,
    );
  });
}

test('no --tcplisten: status 64', () => fails(['run', 'wasm/echo.wasm'], 64).then(() => {}));

test('an unknown option: status 64', async () => {
  const line = await fails(
    ['run', 'wasm/echo.wasm', '--tcplisten', '127.0.0.1:0', '--frobnicate'],
    64,
  );
  assert.match(line, '--frobnicate');
});

test('a bad address (--tcplisten nonsense): status 64', () =>
  fails(['run', 'wasm/echo.wasm', '--tcplisten', 'nonsense'], 64).then(() => {}));

test('a port already in use: status 71', async () => {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(0, '127.0.0.1', resolve),
  );
  const { port } = server.address() as net.AddressInfo;
  const line = await fails(['run', 'wasm/echo.wasm', '--tcplisten', `127.0.0.1:${port}`], 71);
  assert.match(line, String(port));
});

test('--help: status 0, usage on stdout', async () => {
  const r = await wasmloop(['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, '--tcplisten');
  assert.match(r.stdout, 'Exit status');
  assert.is(r.stderr, '');
});

test('--version: status 0, the package.json version', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await wasmloop(['--version']);
  assert.is(r.code, 0);
  assert.is(r.stdout, `wasmloop ${pkg.version}\n`);
});

test.run();
