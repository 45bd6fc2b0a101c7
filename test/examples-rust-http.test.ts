/**
 * examples/rust-http: an HTTP/1.1 server on Rust's std (TcpListener::from_raw_fd(3), accept,
 * non-blocking read and write) with preview1's poll_oneoff as its one wait, built by rustc for
 * wasm32-wasi, run as a user runs it: bin/wasmloop.js run --tcplisten 127.0.0.1:0.
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

const WASM = 'examples/rust-http/server.wasm';
const CLIENTS = 50;

const answer = (status: string, body: string, connection: string) =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
  `Connection: ${connection}\r\n\r\n${body}`;
const HELLO = answer('200 OK', 'Hello from Rust on wasmloop\n', 'keep-alive');
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;

const test = suite('examples/rust-http under wasmloop run');
test.after.each(killCmdChildren);

test('server.wasm is the build of main.rs by build.sh (build.sha256)', () => {
  assert.equal(buildRecordMismatches('examples/rust-http'), []);
});

for (const backend of BACKENDS) {
  test(`${CLIENTS} concurrent keep-alive clients get exact responses, sockets closed (${backend})`, async () => {
    const { child, port } = await serveExample(WASM, backend);
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => byteClient(port)));
    const has = (text: string) => () => clients.every((c) => c.received().toString() === text);
    // 1: one request on every connection at once
    for (const c of clients) c.sock.write(get('/'));
    await until(has(HELLO), 'the first answers');
    // 2: two pipelined requests, answered in order, on the same connections
    for (const c of clients) c.sock.write(get('/missing') + get('/'));
    const second = HELLO + answer('404 Not Found', 'not found\n', 'keep-alive') + HELLO;
    await until(has(second), 'the pipelined answers');
    // 3: Connection: close is answered, then the server ends the connection
    for (const c of clients) c.sock.write(get('/', 'Connection: close\r\n'));
    await Promise.all(clients.map((c) => c.ended));
    const last = answer('200 OK', 'Hello from Rust on wasmloop\n', 'close');
    clients.forEach((c, i) => assert.is(c.received().toString(), second + last, `client ${i}`));
    for (const c of clients) c.sock.end();
    await until(() => openConnections(port) === 0, 'the server to close every connection');
    assert.ok(child.running());

    child.proc.kill('SIGTERM');
    assert.is(await child.exited(5000), 'SIGTERM'); // the default action: a shell reports 143
    assert.ok(await refused(port), 'the listener is closed');
  });
}

test('a request with a body is refused with 400 and the connection closed', async () => {
  const { port } = await serveExample(WASM);
  const c = await byteClient(port);
  c.sock.write('POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc');
  await c.ended;
  const body = 'request bodies are not accepted\n';
  assert.is(c.received().toString(), answer('400 Bad Request', body, 'close'));
  c.sock.end();
});

test.run();
