/**
 * poll_oneoff's fast path (host/command/poll.ts reclassify): a call whose subscriptions name
 * the same types and fds as the last call's reuses its kinds, host fds, sockets and epoll
 * registrations. Each test makes two or three such identical calls with a change in between
 * that must not be missed: an fd closed and its number taken by a new socket, max-connections
 * reached and left, a renumber, a relative clock (its deadline counts from each call), and a
 * blocking read's own wait. Driven by wasm/test/cmd-pollmany.wasm (test/guests/cmd-pollmany.ts,
 * the `same-*` modes), over loopback; every event is printed whole ("ev USERDATA error E type T
 * nbytes N flags F"; errno 8 is EBADF, flags 1 fd_readwrite_hangup). Two tests run
 * poll_oneoff in process instead: a backend fd opened in between, and that the fast path is
 * taken at all (no fd table lookup on an identical call).
 */
import { connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { FdTable } from '../host/command/fd-table.ts';
import { createPollOneoff } from '../host/command/poll.ts';
import type { SocketHost } from '../host/command/socket-io.ts';
import { HostReadiness } from '../host/command/ready.ts';
import { StdioFds } from '../host/command/stdio.ts';
import { killCmdChildren, ROOT, startCli, until, type CmdChild } from './helpers/cmd-spawn.ts';

const MODULE = `${ROOT}wasm/test/cmd-pollmany.wasm`;
const CLOCK = 0xc10c; // the guest's userdata for its clock subscription
/** The guest fds of the first two accepted sockets (userdata is the fd): 3 is the listener
 *  and 4 the wasmer backend's preopened directory. */
const [A, B] = [5, 6];

async function dial(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  return sock;
}

/** The CLI running the guest in `mode` on one loopback listener (guest fd 3). */
async function serve(mode: string, flags: string[] = []) {
  const child = startCli([
    'run',
    '--wasi',
    'wasmer',
    ...flags,
    '--tcplisten',
    '127.0.0.1:0',
    MODULE,
    mode,
  ]);
  const port = () => /serving \S+ on 127\.0\.0\.1:(\d+)/.exec(child.stderr())?.[1];
  await until(() => port() !== undefined, 'the listener');
  return { child, port: Number(port()) };
}

const ev = (user: number, error: number, type: number, nbytes = 0, flags = 0) =>
  `ev ${user} error ${error} type ${type} nbytes ${nbytes} flags ${flags}\n`;

async function output(child: CmdChild): Promise<string> {
  assert.is(await child.exited(), 0, child.stderr());
  return child.stdout().toString();
}

const test = suite('WASI poll_oneoff: identical calls see what changed between them');
test.after.each(killCmdChildren);

test('an fd closed and its number taken by a new socket is watched as the new socket', async () => {
  const { child, port } = await serve('same-close');
  const a = await dial(port);
  a.end(); // the first poll reports A's end of input
  await until(() => child.stderr().includes('closed'), 'the close');
  const b = await dial(port);
  b.write('bb');
  // Reusing A's socket would fire at once with A's end of input (nbytes 0, hangup).
  assert.is(await output(child), ev(A, 0, 1, 0, 1) + ev(A, 0, 1, 2) + 'read bb\n');
  b.destroy();
});

test('a listener is held back at max-connections and watched again once below it', async () => {
  const { child, port } = await serve('same-limit', ['-W', 'max-connections=1']);
  const clients = [await dial(port), await dial(port)];
  child.proc.stdin.write('g'); // both are waiting: the first poll sees the listener ready
  const expected = [ev(3, 0, 1), ev(CLOCK, 0, 0), ev(3, 0, 1)];
  assert.is(await output(child), expected.join(''));
  for (const c of clients) c.destroy();
});

test('after a renumber, the fd moved away is EBADF and its number is the moved socket', async () => {
  const { child, port } = await serve('same-renumber');
  const a = await dial(port);
  const b = await dial(port);
  b.resume();
  await until(() => child.stderr().includes('renumbered'), 'the renumber');
  a.write('moved');
  const first = ev(CLOCK, 0, 0);
  assert.is(await output(child), first + ev(A, 8, 1) + first + 'read moved\n');
  a.destroy();
  b.destroy();
});

test('a relative clock counts from each call, not from the first of identical calls', async () => {
  const { child, port } = await serve('same-clock');
  const a = await dial(port);
  const round = ev(CLOCK, 0, 0) + 'waited 300 ms or more\n';
  assert.is(await output(child), round + round);
  a.destroy();
});

test('a blocking read in between: the other socket polled before is reported again', async () => {
  const { child, port } = await serve('same-block');
  const a = await dial(port);
  const b = await dial(port);
  a.write('a1');
  await until(() => child.stderr().includes('blocking'), 'the blocking read');
  b.write('bb'); // readable while the guest sleeps on A alone
  a.write('aa');
  assert.is(await output(child), ev(A, 0, 1, 2) + 'read A: aa\n' + ev(B, 0, 1, 2));
  a.destroy();
  b.destroy();
});

/** poll_oneoff in process over `table` and a backend that owns every fd it is asked about
 *  (fd_fdstat_get succeeds), so only the table says whether a guest fd is open; the guest's
 *  memory holds one subscription, FD_READ on fd 7, with the events at 1024, nevents at 2048. */
function pollOverBackend(table: FdTable) {
  const memory = new ArrayBuffer(4096);
  const readiness = new HostReadiness();
  const poll = createPollOneoff({
    memory: () => memory,
    stdio: new StdioFds({ stdin: 0, stdout: 1, stderr: 2 }),
    backend: { fd_fdstat_get: () => Errno.ESUCCESS },
    fds: table,
    sockets: { host: { readiness } as SocketHost, atLimit: () => false },
    readiness,
  });
  const view = new DataView(memory);
  view.setUint8(8, 1); // FD_READ
  view.setUint32(16, 7, true);
  return { poll, view, readiness };
}

test('an fd the backend opens under a number polled before is no longer EBADF', () => {
  const table = new FdTable([], 0);
  const { poll, view, readiness } = pollOverBackend(table);
  const errorOfOnlyEvent = () => {
    assert.is(poll(0, 1024, 1, 2048), Errno.ESUCCESS);
    assert.is(view.getUint32(2048, true), 1);
    return view.getUint16(1024 + 8, true);
  };
  assert.is(errorOfOnlyEvent(), Errno.EBADF);
  table.set(7, { backend: 7 }); // as path_open does, with nothing else changed
  assert.is(errorOfOnlyEvent(), Errno.ESUCCESS);
  readiness.close();
});

test('an identical call with nothing changed looks no fd up: the fast path is taken', () => {
  const table = new FdTable([], 0);
  table.set(7, { backend: 7 });
  let lookups = 0;
  const get = table.get.bind(table);
  table.get = (fd) => (lookups++, get(fd));
  const { poll, view, readiness } = pollOverBackend(table);
  for (let call = 0; call < 3; call++) assert.is(poll(0, 1024, 1, 2048), Errno.ESUCCESS);
  assert.is(lookups, 1, 'only the first call classifies');
  view.setUint32(16, 8, true); // another fd: classified afresh (and EBADF)
  assert.is(poll(0, 1024, 1, 2048), Errno.ESUCCESS);
  assert.is(lookups, 2);
  assert.is(view.getUint16(1024 + 8, true), Errno.EBADF);
  readiness.close();
});

test.run();
