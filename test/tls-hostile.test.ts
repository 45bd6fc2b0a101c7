/**
 * Hostile guests and clients of a TLS listener (docs/SECURITY.md, "TLS"): a guest that lies to
 * `tls_info` about its buffer, under `workers: 2`, gets errnos and hurts no other connection;
 * ClientHellos with random bytes changed each end their own connection, and the listener
 * serves on.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import type { TlsStats } from '../host/index.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { rng, testSeed } from './helpers/net-random.ts';
import { makeCert } from './helpers/tls-certs.ts';
import { answers, clientHello, readUntil, tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls-hostile');
const main = makeCert('localhost', '127.0.0.1');
const listen = [{ host: '127.0.0.1', port: 0, tls: main }];

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

async function ask(sock: Duplex, text: string): Promise<string> {
  sock.write(text);
  return (await readUntil(sock, (b) => b.includes(10))).toString();
}

test('tls_info with lying pointers and lengths under workers: 2: errnos, nobody else hurt', async () => {
  const { port } = await startLoop('wasm/test/tls-info.wasm', { listen, workers: 2 });
  const connect = () => tlsConnect(port, main.cert);
  // Four of each: SO_REUSEPORT spreads them, so both workers have liars and bystanders.
  const bystanders = await Promise.all(Array.from({ length: 4 }, connect));
  const liars = await Promise.all(Array.from({ length: 4 }, connect));
  const lies: [number, number, number][] = [
    [0xffffffff, 512, -Errno.EFAULT], // past the end of memory
    [0xfffffff0, 0xffffffff, -Errno.EFAULT], // a "length" of -1, read as 4 GiB
    [0x7fffffff, 0x80000000, -Errno.EFAULT], // pointer + size wraps i32
    [1 << 30, 16, -Errno.EFAULT], // far beyond this guest's memory
    [0, 0, -Errno.ERANGE], // no room for the record
    [0, 10, -Errno.ERANGE], // one byte short of "\0" + "\x09localhost"
  ];
  for (const liar of liars) {
    for (const [ptr, len, errno] of lies)
      assert.is(await ask(liar, `!${ptr} ${len}`), `= ${errno}\n`);
  }
  for (const sock of [...bystanders, ...liars])
    assert.is(await ask(sock, '?'), 'tls alpn= sni=localhost\n');
});

/** Sends `bytes` and its FIN on a raw TCP connection; resolves when the server has closed it. */
async function sendAndWaitClose(port: number, bytes: Buffer): Promise<void> {
  const sock = track(net.connect(port, '127.0.0.1'));
  sock.on('error', () => {});
  sock.on('data', () => {});
  const closed = new Promise((r) => sock.once('close', r));
  sock.end(bytes);
  await withTimeout(closed, 5000, 'the server to close a fuzzed connection');
}

test('fuzz: 400 ClientHellos with 1 to 8 random bytes changed end their own connection', async () => {
  const seed = testSeed();
  const random = rng(seed);
  const { loop, port } = await startLoop('wasm/hello.wasm', { listen });
  const hello = await clientHello();
  const before = await tlsConnect(port, main.cert);
  const mutated = (): Buffer => {
    const m = Buffer.from(hello);
    for (let n = random.int(1, 8); n > 0; n--) m[random.int(0, m.length - 1)] = random.int(0, 255);
    return m;
  };
  try {
    for (let round = 0; round < 8; round++)
      await Promise.all(Array.from({ length: 50 }, () => sendAndWaitClose(port, mutated())));
  } catch (err) {
    throw new Error(`${(err as Error).message} (WASMLOOP_TEST_SEED=${seed})`);
  }
  const stats = () => loop.stats() as Partial<TlsStats>;
  await waitFor(() => (stats().tlsHandshakeFailures ?? 0) >= 1, 'the failures counted');
  before.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.is(answers(await readUntil(before, (b) => answers(b) === 1)), 1, 'served on');
  const after = await tlsConnect(port, main.cert);
  after.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.is(answers(await readUntil(after, (b) => answers(b) === 1)), 1);
});

test.run();
