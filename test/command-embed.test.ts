/**
 * runCommand as the package exports it (host/command/embed.ts): a WASI command on a worker
 * thread while this thread's event loop keeps running, its exit status, its errors, and an
 * AbortSignal that ends it wherever it is (asleep in sock_accept, poll_oneoff or fd_read, or
 * spinning in its own code), with every socket it held closed: no fd of this process is left
 * open and its port refuses connections. Over wasm/test/cmd-net.wasm and cmd-pollmany.wasm.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCommand, WasmloopError, type RunCommandOptions } from '../host/index.ts';
import { ROOT, until } from './helpers/cmd-spawn.ts';

const NET = `${ROOT}wasm/test/cmd-net.wasm`;
const POLLMANY = `${ROOT}wasm/test/cmd-pollmany.wasm`;

const openFds = () => readdirSync('/proc/self/fd').length;

let dir = '';
let stdio = { stdin: -1, stdout: -1, stderr: -1 };
const output = (fd: 'stdout' | 'stderr') => readFileSync(join(dir, fd), 'utf8');

/** runCommand on one loopback listener, its stdio files of this test; resolves the port. */
function start(module: string, args: string[], extra: Partial<RunCommandOptions> = {}) {
  let port = 0;
  const done = runCommand({
    module,
    args: ['cmd', ...args],
    listen: [{ host: '127.0.0.1', port: 0 }],
    onListening: (a) => (port = a[0]!.port),
    ...stdio,
    ...extra,
  });
  done.catch(() => {}); // looked at by each test
  return { done, port: async () => (await until(() => port > 0, 'the listener'), port) };
}

async function dial(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  return sock;
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(false)));
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function rejectsWithAbort(done: Promise<number>): Promise<void> {
  const err = await done.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, Error);
  assert.is((err as Error).name, 'AbortError');
  assert.is((err as NodeJS.ErrnoException).code, 'ABORT_ERR');
}

const test = suite('runCommand: a WASI command on a worker thread');
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmloop-embed-'));
  stdio = {
    stdin: openSync('/dev/null', 'r'),
    stdout: openSync(join(dir, 'stdout'), 'w'),
    stderr: openSync(join(dir, 'stderr'), 'w'),
  };
});
test.after.each(() => {
  for (const fd of Object.values(stdio)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

test('serves while this thread runs its timers and an HTTP server; resolves to the status', async () => {
  const before = openFds();
  const http = createServer((_, res) => res.end('still here'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const { done, port } = start(NET, ['echo', '2']);
  const clients = await Promise.all([dial(await port()), dial(await port())]);
  for (const [i, c] of clients.entries()) {
    const echoed = new Promise<string>((r) => c.once('data', (b: Buffer) => r(b.toString())));
    c.write(`hello ${i}`);
    assert.is(await echoed, `hello ${i}`);
  }
  const address = http.address() as { port: number };
  const body = await new Promise<string>((resolve) =>
    get(`http://127.0.0.1:${address.port}/`, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d)).on('end', () => resolve(text));
    }),
  );
  assert.is(body, 'still here');
  for (const c of clients) c.end();
  assert.is(await done, 0);
  clearInterval(timer);
  assert.ok(ticks > 0, 'the timer ran while the command served');
  assert.is(output('stdout'), 'served 2\n');
  http.close();
  for (const c of clients) c.destroy();
  await until(() => openFds() <= before, 'the fds to close');
});

test('the exit status, and a module that is not a command rejects with a WasmloopError', async () => {
  const tool = `${ROOT}wasm/test/cmd-tool.wasm`;
  assert.is(await runCommand({ module: tool, args: ['t', 'exit', '7'], ...stdio }), 7);
  const err = await runCommand({ module: `${ROOT}wasm/hello.wasm` }).catch((e: unknown) => e);
  assert.instance(err, WasmloopError);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_NOT_COMMAND');
});

const blocked: [string, string[], string, boolean][] = [
  ['asleep in sock_accept', ['accept'], 'accepting', false],
  ['asleep in poll_oneoff', ['echo', '1'], 'polling', false],
  ['asleep in fd_read on a socket', ['read'], 'reading', true],
];
for (const [where, args, marker, connects] of blocked) {
  test(`an abort ends a command ${where}, promptly, closing every socket`, async () => {
    const before = openFds();
    const abort = new AbortController();
    const { done, port } = start(NET, args, { signal: abort.signal });
    const client = connects ? await dial(await port()) : undefined;
    const clientClosed = client && new Promise((resolve) => client.once('close', resolve).resume());
    await until(() => output('stderr').includes(marker), marker);
    const t0 = performance.now();
    abort.abort();
    await rejectsWithAbort(done);
    assert.ok(performance.now() - t0 < 400, `ended in ${performance.now() - t0} ms`);
    assert.ok(await refused(await port()), 'the listener is closed');
    await clientClosed; // the command's end closed the connection too
    await until(() => openFds() <= before, 'the fds to close');
  });
}

test('an abort ends a command that spins in its own code (the thread is terminated)', async () => {
  const before = openFds();
  const abort = new AbortController();
  const { done, port } = start(POLLMANY, ['spin'], { signal: abort.signal });
  await until(() => output('stderr').includes('spinning'), 'the spin');
  abort.abort();
  await rejectsWithAbort(done);
  assert.ok(await refused(await port()), 'the listener is closed');
  await until(() => openFds() <= before, 'the fds to close');
});

test('an already aborted signal rejects before anything starts', async () => {
  await rejectsWithAbort(runCommand({ module: NET, signal: AbortSignal.abort() }));
});

test.run();
