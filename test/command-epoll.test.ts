/**
 * poll_oneoff's epoll registrations, kept across calls (host/command/ready.ts): what a call
 * costs in epoll_ctl and epoll_wait when the guest polls the same 1,000 sockets over and over,
 * and that keeping them loses nothing when a socket is closed and its host fd reused, renumbered,
 * read ahead, or waited on by a blocking call in between. Driven by wasm/test/cmd-pollmany.wasm
 * (test/guests/cmd-pollmany.ts), over loopback.
 */
import { connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  killCmdChildren,
  ROOT,
  startCli,
  startCounted,
  until,
  type CmdChild,
} from './helpers/cmd-spawn.ts';

const MODULE = `${ROOT}wasm/test/cmd-pollmany.wasm`;
const NET = `${ROOT}wasm/test/cmd-net.wasm`;

async function dial(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  return sock;
}

const reply = (sock: Socket) =>
  new Promise<string>((resolve) => sock.once('data', (b: Buffer) => resolve(b.toString())));

/** The CLI serving `module` on one loopback listener: the child and its port. */
async function serve(module: string, args: string[], backend = 'wasmer') {
  const child = startCli(['run', '--wasi', backend, '--tcplisten', '127.0.0.1:0', module, ...args]);
  const port = () => /serving \S+ on 127\.0\.0\.1:(\d+)/.exec(child.stderr())?.[1];
  await until(() => port() !== undefined, 'the listener');
  return { child, port: Number(port()) };
}

const out = (child: CmdChild) => child.stdout().toString();

const test = suite('WASI poll_oneoff: epoll registrations across calls');
test.after.each(killCmdChildren);

test('polling 1,000 unchanged sockets costs one epoll_wait per call and no epoll_ctl', async () => {
  const [conns, rounds] = [1000, 200];
  const child = startCounted([MODULE, 'many', String(conns), String(rounds)]);
  await until(() => /port \d+/.test(child.stderr()), 'the listener');
  const port = Number(/port (\d+)/.exec(child.stderr())![1]);
  const socks = await Promise.all(Array.from({ length: conns }, () => dial(port)));
  child.proc.stdin.write('g'); // all connected: the guest accepts them without waiting
  for (let r = 0; r < rounds; r++) {
    const sock = socks[(r * 7) % conns]!;
    const echoed = reply(sock);
    sock.write(`m${r}`);
    assert.is(await echoed, `m${r}`);
  }
  assert.is(await child.exited(), 0);
  assert.is(out(child), `served ${rounds}\n`);
  const [, ctl, wait] = /epoll_ctl (\d+) epoll_wait (\d+)/.exec(child.stderr())!.map(Number);
  // Registered once each at the first call; each call then waits once for its one message.
  assert.ok(ctl! <= conns, `epoll_ctl ${ctl} for ${conns} sockets over ${rounds} calls`);
  assert.ok(wait! <= rounds + 2, `epoll_wait ${wait} for ${rounds} calls`);
  for (const s of socks) s.destroy();
});

test('a closed socket whose host fd is reused by the next accept is watched afresh', async () => {
  const { child, port } = await serve(NET, ['echo', '3']);
  for (const word of ['one', 'two', 'three']) {
    const sock = await dial(port); // one at a time: each gets the host fd the last one had
    const echoed = reply(sock);
    sock.write(word);
    assert.is(await echoed, word);
    const closed = new Promise((resolve) => sock.once('close', resolve));
    sock.end();
    await closed;
  }
  assert.is(await child.exited(), 0);
  assert.is(out(child), 'served 3\n');
});

test('bytes already read ahead fire again without epoll (node backend)', async () => {
  const { child, port } = await serve(MODULE, ['again'], 'node');
  const sock = await dial(port);
  sock.write('abc');
  assert.is(await child.exited(), 0);
  assert.is(out(child), 'ev 1 nbytes 3\nev 1 nbytes 3\nread abc\n');
  sock.destroy();
});

test('a blocking read on one socket takes no event from another the guest polls later', async () => {
  const { child, port } = await serve(MODULE, ['block']);
  const a = await dial(port);
  const b = await dial(port);
  await until(() => child.stderr().includes('blocking'), 'the blocking read');
  b.write('bb'); // readable while the guest sleeps on A alone
  a.write('aa');
  assert.is(await child.exited(), 0);
  assert.is(out(child), 'ev 0 nbytes 0\nread A: aa\nev 1 nbytes 2\n');
  a.destroy();
  b.destroy();
});

test('a socket polled, then renumbered, is polled under its new fd (node backend)', async () => {
  const { child, port } = await serve(MODULE, ['renumber'], 'node');
  const a = await dial(port);
  const b = await dial(port);
  const bClosed = new Promise((resolve) => b.once('close', resolve));
  b.resume();
  await until(() => child.stderr().includes('renumbered'), 'the renumber');
  await bClosed; // fd_renumber closed what the target fd held
  a.write('moved');
  assert.is(await child.exited(), 0);
  assert.is(out(child), 'ev 1 nbytes 5\nread moved\n');
  a.destroy();
});

test.run();
