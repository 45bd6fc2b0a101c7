/**
 * WASI commands serving on preopened listeners (`wasmloop run --tcplisten` of a `_start`
 * module: host/command/sockets.ts, socket-io.ts, fd-table.ts, poll-sockets.ts), through the
 * real CLI over loopback, on both backends, driven by wasm/test/cmd-net.wasm
 * (test/guests/cmd-net.ts). Every test ends with the port refusing connections: the command's
 * sockets are all closed, whether it returned or a signal ended it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WasiBackendName } from '../host/command/command.ts';
import { killCmdChildren, ROOT, startCli, until, type CmdChild } from './helpers/cmd-spawn.ts';

const MODULE = `${ROOT}wasm/test/cmd-net.wasm`;
const BACKENDS: WasiBackendName[] = ['wasmer', 'node'];

/** Starts the command on `listeners` loopback listeners (port 0); resolves with their ports. */
async function serve(
  args: string[],
  opts: { backend?: WasiBackendName; listeners?: number; flags?: string[] } = {},
): Promise<{ child: CmdChild; ports: number[] }> {
  const listen = Array.from({ length: opts.listeners ?? 1 }, () => [
    '--tcplisten',
    '127.0.0.1:0',
  ]).flat();
  const backend = opts.backend ? ['--wasi', opts.backend] : [];
  const child = startCli(['run', ...backend, ...listen, ...(opts.flags ?? []), MODULE, ...args]);
  const ports = () => [...child.stderr().matchAll(/serving \S+ on 127\.0\.0\.1:(\d+)/g)];
  await until(() => ports().length === (opts.listeners ?? 1), 'the listeners');
  return { child, ports: ports().map((m) => Number(m[1])) };
}

/** A connected client that collects what it receives. */
interface Client {
  sock: Socket;
  received: () => string;
  closed: Promise<unknown>;
}

async function client(port: number): Promise<Client> {
  const sock = connect(port, '127.0.0.1');
  const closed = new Promise((resolve) => sock.once('close', resolve));
  let data = '';
  sock.setEncoding('latin1').on('data', (d: string) => (data += d));
  sock.on('error', () => {}); // a reset when the command is killed: the test looks at 'close'
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  return { sock, received: () => data, closed };
}

/** True once nothing listens on `port` any more. */
async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(false)));
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const ended = (sock: Socket) => new Promise((resolve) => sock.once('end', resolve));

const test = suite('WASI command on preopened listeners');
test.after.each(killCmdChildren);

for (const backend of BACKENDS) {
  test(`listeners are fds 3, 4, ... before --dir preopens, not directories (${backend})`, async () => {
    const dir = backend === 'node' ? ['--dir', 'test'] : [];
    const { child } = await serve(['prestat', '4'], { backend, listeners: 2, flags: dir });
    assert.is(await child.exited(), 0);
    // fd 5: the --dir for node, @wasmer/wasi's own "/" for wasmer (its flags differ)
    assert.is(
      child.stdout().toString().replace('flags 32768', 'flags 0'),
      'fd 3: prestat 8 type 6 flags 0\nfd 4: prestat 8 type 6 flags 0\n' +
        'fd 5: prestat 0 type 3 flags 0\nfd 6: prestat 8 type 255 flags 0\n',
    );
  });

  test(`a poll_oneoff echo server serves 20 concurrent clients, exact bytes (${backend})`, async () => {
    const { child, ports } = await serve(['echo', '20'], { backend });
    const clients = await Promise.all(Array.from({ length: 20 }, () => client(ports[0]!)));
    const messages = clients.map((_, i) => `client ${i}: ${'x'.repeat(i * 997)}\n`);
    clients.forEach((c, i) => c.sock.write(messages[i]!));
    await until(() => clients.every((c, i) => c.received() === messages[i]), 'every echo');
    for (const c of clients) c.sock.end();
    await Promise.all(clients.map((c) => ended(c.sock)));
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), 'served 20\n');
    assert.ok(await refused(ports[0]!));
  });
}

test('a file opened in a --dir after the listeners gets a free guest fd (node backend)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-net-'));
  writeFileSync(join(dir, 'in.txt'), 'from the host');
  try {
    // listener at 3, the directory at 4; node:wasi opens the file as its fd 4, taken here
    const { child } = await serve(['open', '4'], { flags: ['--dir', dir] });
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), 'open 0 fd 5: from the host\nclose 0\nfdstat 8\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RECV_PEEK, RECV_WAITALL, sock_send and sock_shutdown WR on an accepted socket', async () => {
  const { child, ports } = await serve(['conn']);
  const c = await client(ports[0]!);
  c.sock.write('hello');
  await until(() => child.stdout().toString().includes('peek'), 'the peek');
  await new Promise((r) => setTimeout(r, 100)); // WAITALL is still waiting for 5 more
  assert.not.ok(child.stdout().toString().includes('waitall'));
  c.sock.write('world12345');
  await ended(c.sock); // shutdown WR: the client sees the end after "pong"
  assert.is(c.received(), 'pong');
  c.sock.end();
  assert.is(await child.exited(), 0);
  assert.is(
    child.stdout().toString(),
    'accepted\npeek 5: hello (errno 0)\nwaitall 10: helloworld (errno 0)\nsent 4 (errno 0)\nshutdown 0\neof\n',
  );
});

test('poll_oneoff on a socket: nbytes of what is there, then HANGUP at its end', async () => {
  const { child, ports } = await serve(['pollconn']);
  const c = await client(ports[0]!);
  c.sock.write('hello');
  await until(() => child.stderr().includes('waiting'), 'the first poll and read');
  c.sock.end();
  assert.is(await child.exited(), 0);
  assert.is(
    child.stdout().toString(),
    'ev 1: error 0 nbytes 5 flags 0\nev 2: error 0 nbytes 0 flags 0\nread 5\n' +
      'ev 1: error 0 nbytes 0 flags 1\n',
  );
});

/** CPU time of process `pid` so far, in clock ticks (utime + stime, /proc/PID/stat). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test('poll_oneoff FD_WRITE on a full socket whose peer shut its side sleeps', async () => {
  const { child, ports } = await serve(['fill']);
  const c = await client(ports[0]!);
  c.sock.pause(); // read nothing: the command's sends fill the buffers
  await until(() => child.stderr().includes('waiting'), 'the buffers to fill');
  c.sock.end(); // EPOLLRDHUP on the command's side, level-triggered, while it waits for room
  const before = cpuTicks(child.proc.pid!);
  await new Promise((r) => setTimeout(r, 700));
  const used = cpuTicks(child.proc.pid!) - before;
  assert.is(await child.exited(), 0);
  assert.is(child.stdout().toString(), 'full\nev 0: error 0 nbytes 0 flags 0\n'); // the clock
  assert.ok(used < 20, `${used} ticks of CPU in 0.7 s asleep`);
  c.sock.destroy();
});

test('-W max-connections bounds accepted sockets: the next waits until one closes', async () => {
  const { child, ports } = await serve(['echo', '3'], { flags: ['-W', 'max-connections=2'] });
  const clients: Client[] = [];
  for (let i = 0; i < 3; i++) clients.push(await client(ports[0]!));
  clients.forEach((c, i) => c.sock.write(`m${i}`));
  await until(() => clients[0]!.received() === 'm0' && clients[1]!.received() === 'm1', 'two');
  await new Promise((r) => setTimeout(r, 200));
  assert.is(clients[2]!.received(), '', 'the third is not accepted while two are open');
  clients[0]!.sock.end();
  await until(() => clients[2]!.received() === 'm2', 'the third, once the first closed');
  for (const c of clients.slice(1)) c.sock.end();
  assert.is(await child.exited(), 0);
  assert.ok(await refused(ports[0]!));
});

test.run();

const signals = suite('wasmloop run: a command blocked on a socket');
signals.after.each(killCmdChildren);

for (const [mode, waits] of [
  ['accept', 'accepting'],
  ['read', 'reading'],
  ['echo', 'polling'],
] as const) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    signals(`${signal} ends it in ${mode}, every socket closed`, async () => {
      const { child, ports } = await serve([mode, '1'], { listeners: 2 });
      const c = mode === 'read' ? await client(ports[0]!) : undefined;
      await until(() => child.stderr().includes(waits), `the command to block in ${mode}`);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(child.running());
      const sent = performance.now();
      child.proc.kill(signal);
      assert.is(await child.exited(5000), signal);
      assert.ok(performance.now() - sent < 3000);
      await c?.closed; // the accepted socket is closed too
      for (const port of ports) assert.ok(await refused(port), `port ${port} is closed`);
      c?.sock.destroy();
    });
  }
}

signals.run();
