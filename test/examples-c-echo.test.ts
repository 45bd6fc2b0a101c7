/**
 * examples/c-echo: a C poll() echo server built with clang for wasm32-wasi (wasi-libc's
 * accept(), recv(), send() and poll() over preview1's sock_accept, sock_recv, sock_send and
 * poll_oneoff), run as a user runs it: bin/wasmloop.js run --tcplisten 127.0.0.1:0.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { killCmdChildren, until } from './helpers/cmd-spawn.ts';
import {
  BACKENDS,
  buildRecordMismatches,
  byteClient,
  openConnections,
  refused,
  serveExample,
} from './helpers/examples.ts';

const WASM = 'examples/c-echo/echo.wasm';
const CLIENTS = 50;

/** Client i's message: every byte value, in sizes from 1 byte to 300 KiB (several > 64 KiB,
 *  the server's read buffer, so one message takes several reads and short sends). */
function message(i: number): Buffer {
  const size = i === 0 ? 1 : i % 10 === 9 ? 300 * 1024 - i : i * 1499;
  return Buffer.from(Array.from({ length: size }, (_, k) => (k * 31 + i * 7) & 0xff));
}

const test = suite('examples/c-echo under wasmloop run');
test.after.each(killCmdChildren);

test('echo.wasm is the build of echo.c by build.sh (build.sha256)', () => {
  assert.equal(buildRecordMismatches('examples/c-echo'), []);
});

for (const backend of BACKENDS) {
  test(`${CLIENTS} concurrent clients get their exact bytes back, sockets closed (${backend})`, async () => {
    const { child, port } = await serveExample(WASM, backend);
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => byteClient(port)));
    const messages = clients.map((_, i) => message(i));
    clients.forEach((c, i) => c.sock.write(messages[i]!));
    const total = (c: (typeof clients)[number]) => c.received().length;
    await until(() => clients.every((c, i) => total(c) >= messages[i]!.length), 'every echo');
    clients.forEach((c, i) => assert.ok(c.received().equals(messages[i]!), `client ${i}'s bytes`));
    for (const c of clients) c.sock.end();
    await Promise.all(clients.map((c) => c.ended)); // the server closed each one
    await until(() => openConnections(port) === 0, 'the server to close every connection');
    assert.ok(child.running());

    child.proc.kill('SIGTERM');
    assert.is(await child.exited(5000), 'SIGTERM'); // the default action: a shell reports 143
    assert.ok(await refused(port), 'the listener is closed');
  });
}

test.run();
