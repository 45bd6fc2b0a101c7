/**
 * `wasmloop run --listenfd` (host/listen-fds.ts, host/listeners.ts adoptListeners): listeners
 * passed as systemd socket activation passes them, to a wasmloop guest and to a WASI command,
 * through the real CLI. The test holds a loopback listener and hands it to the CLI as fd 3
 * with a shell that sets LISTEN_PID to its own pid and execs the CLI (what systemd does).
 * Every test ends with the inherited port refusing connections: the CLI closed its copy, and
 * the test closed its own right after the spawn.
 */
import { closeSync, openSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inheritedListenFds } from '../host/listen-fds.ts';
import {
  killCmdChildren,
  ROOT,
  startActivatedCli,
  until,
  type CmdChild,
} from './helpers/cmd-spawn.ts';

const ECHO_GUEST = `${ROOT}wasm/echo.wasm`;
const NET_COMMAND = `${ROOT}wasm/test/cmd-net.wasm`;

/** A loopback listener on a free port, and its host fd (Node exposes it on the handle only). */
async function listener(): Promise<{ server: Server; fd: number; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, fd, port: address.port };
}

/** Starts the CLI on the test's listener as its fd 3; the test's own copy is closed at once. */
async function activate(args: string[]): Promise<{ child: CmdChild; port: number }> {
  const { server, fd, port } = await listener();
  const child = startActivatedCli(args, fd, { LISTEN_FDS: '1' });
  server.close();
  return { child, port };
}

function servingPorts(child: CmdChild): number[] {
  return [...child.stderr().matchAll(/serving \S+ on 127\.0\.0\.1:(\d+)/g)].map((m) =>
    Number(m[1]),
  );
}

/** Sends `text` on a new connection to `port` and resolves with what comes back before `text`'s
 *  length is reached. */
async function echoOnce(port: number, text: string): Promise<string> {
  const sock = connect(port, '127.0.0.1');
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => (got += d));
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.write(text);
  await until(() => got.length >= text.length, `the echo on ${port}`);
  sock.end();
  await new Promise((resolve) => sock.once('close', resolve));
  return got;
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(false)));
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const test = suite('--listenfd');
test.after.each(killCmdChildren);

for (const workers of ['1', '2']) {
  test(`a guest serves on an inherited listener after its --tcplisten one (--workers ${workers})`, async () => {
    const args = ['run', '--tcplisten', '127.0.0.1:0', '--listenfd', '--workers', workers];
    const { child, port } = await activate([...args, ECHO_GUEST]);
    await until(() => servingPorts(child).length === 2, 'the serving lines');
    const [bound, inherited] = servingPorts(child);
    assert.is(inherited, port);
    assert.is.not(bound, port);
    for (let i = 0; i < 4; i++)
      assert.is(await echoOnce(port, `inherited ${i}\n`), `inherited ${i}\n`);
    assert.is(await echoOnce(bound!, 'bound\n'), 'bound\n');
    child.proc.kill('SIGTERM');
    assert.is(await child.exited(), 0);
    assert.ok(await refused(port));
  });
}

test('a WASI command gets the inherited listener preopened after --tcplisten ones', async () => {
  const args = ['run', '--tcplisten', '127.0.0.1:0', '--listenfd', NET_COMMAND, 'prestat', '2'];
  const { child, port } = await activate(args);
  assert.is(await child.exited(), 0);
  assert.is(
    child.stdout().toString(),
    'fd 3: prestat 8 type 6 flags 0\nfd 4: prestat 8 type 6 flags 0\n',
  );
  assert.is(servingPorts(child)[1], port);
  assert.ok(await refused(port));
});

test('a WASI command serves on an inherited listener as its fd 3', async () => {
  const { child, port } = await activate(['run', '--listenfd', NET_COMMAND, 'echo', '1']);
  await until(() => child.stderr().includes('polling'), 'the command to poll');
  assert.is(await echoOnce(port, 'through fd 3\n'), 'through fd 3\n');
  assert.is(await child.exited(), 0);
  assert.is(child.stdout().toString(), 'served 1\n');
  assert.ok(await refused(port));
});

test('LISTEN_PID of another process, or no LISTEN_FDS, is a usage error (64)', async () => {
  const { server, fd } = await listener();
  try {
    const other = startActivatedCli(['run', '--listenfd', ECHO_GUEST], fd, {
      LISTEN_FDS: '1',
      LISTEN_PID_AS: '1',
    });
    assert.is(await other.exited(), 64);
    assert.match(other.stderr(), /--listenfd: LISTEN_PID=1 is another process's/);
    const none = startActivatedCli(['run', '--listenfd', NET_COMMAND, 'echo', '1'], fd, {});
    assert.is(await none.exited(), 64);
    assert.match(none.stderr(), /--listenfd: LISTEN_FDS is not set/);
  } finally {
    server.close();
  }
});

test('an inherited fd that is not a listening socket is a listen error (71)', async () => {
  const file = openSync(`${ROOT}package.json`, 'r');
  try {
    // a file: not a socket; Node's 'pipe' is a connected Unix socket pair: not listening
    for (const [fd3, errno] of [
      [file, 'ENOTSOCK'],
      ['pipe', 'EINVAL'],
    ] as const) {
      for (const module of [ECHO_GUEST, NET_COMMAND]) {
        const child = startActivatedCli(['run', '--listenfd', module], fd3, { LISTEN_FDS: '1' });
        assert.is(await child.exited(), 71);
        assert.ok(child.stderr().includes(`fd 3 is not a listening TCP socket: ${errno}`));
      }
    }
  } finally {
    closeSync(file);
  }
});

test('LISTEN_* are checked and then removed from the environment', () => {
  const env = (vars: Record<string, string>) => ({ LISTEN_PID: '42', ...vars, OTHER: 'kept' });
  const ok = env({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin' });
  assert.equal(inheritedListenFds(ok, 42), [3, 4]);
  assert.equal(ok, { OTHER: 'kept' });
  for (const [vars, message] of [
    [{ LISTEN_FDS: '0' }, /LISTEN_FDS=0 is not a count/],
    [{ LISTEN_FDS: '1x' }, /LISTEN_FDS=1x is not a count/],
    [{ LISTEN_FDS: '5000' }, /LISTEN_FDS=5000 is not a count/],
    [{ LISTEN_FDS: '2', LISTEN_FDNAMES: 'one' }, /LISTEN_FDNAMES has 1 names for LISTEN_FDS=2/],
    [{ LISTEN_FDS: '1', LISTEN_PID: 'me' }, /LISTEN_PID=me is not a process id/],
  ] as const) {
    const given = env(vars);
    assert.throws(() => inheritedListenFds(given, 42), message);
    assert.equal(given, { OTHER: 'kept' });
  }
  assert.throws(() => inheritedListenFds({}, 42), /LISTEN_PID is not set/);
});

test.run();
