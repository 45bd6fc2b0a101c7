/**
 * What a TLS listener does with what goes wrong (docs/SECURITY.md, "TLS"): unusable
 * certificates refused at start-up with one line (CLI exit 74), and hostile or broken clients
 * (garbage, a truncated handshake, silence, too many at once) each ending their own connection
 * only, counted in stats(), leaking no fd.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { createLoop, WasmloopError, type TlsStats, type WasmLoop } from '../host/index.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { killAllChildren, runCommand } from './helpers/net-spawn.ts';
import { makeCert, makeExpiredCert } from './helpers/tls-certs.ts';
import { clientHello, tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls-failures');
const main = makeCert('localhost', '127.0.0.1');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

const openFds = () => readdirSync('/proc/self/fd').length;
const tlsOf = (loop: WasmLoop) => loop.stats() as Partial<TlsStats>;

async function refused(tls: { cert: string; key: string }, why: RegExp): Promise<void> {
  const before = openFds();
  const start = createLoop({ module: 'wasm/hello.wasm', listen: [{ port: 0, tls }] });
  const err = await start.then(
    () => assert.unreachable('started'),
    (e: unknown) => e,
  );
  assert.instance(err, WasmloopError);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_TLS');
  assert.match((err as Error).message, why);
  assert.ok(openFds() <= before, 'the listener was closed'); // others may close meanwhile
}

test('start-up refuses a key of another pair, an expired certificate, unreadable PEM', async () => {
  const other = makeCert('localhost');
  await refused({ cert: main.cert, key: other.key }, /does not match/);
  await refused(makeExpiredCert(), /expired/);
  await refused({ cert: 'not a certificate', key: main.key }, /not readable PEM/);
  await refused({ cert: main.cert, key: 'nor a key' }, /key is not readable PEM/);
});

test('CLI: exit 74 and one line for a pair that does not match; 64 for a --tls-key alone', async () => {
  const other = makeCert('localhost');
  const run = (extra: string[]) =>
    runCommand(process.execPath, ['bin/wasmloop.js', 'run', 'wasm/hello.wasm', ...extra], {
      cwd: ROOT,
    });
  const bad = await run([
    '--tcplisten',
    '127.0.0.1:0',
    '--tls-cert',
    main.certFile,
    '--tls-key',
    other.keyFile,
  ]);
  assert.is(bad.code, 74);
  assert.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /key does not match the certificate/);
  const alone = await run(['--tcplisten', '127.0.0.1:0', '--tls-key', main.keyFile]);
  assert.is(alone.code, 64);
});

/** A raw TCP client that sends `bytes` (then, if `end`, its FIN) and waits for the close. */
async function rawClient(port: number, bytes: Buffer, end = false): Promise<void> {
  const sock = track(net.connect(port, '127.0.0.1'));
  sock.on('error', () => {});
  sock.on('data', () => {});
  await new Promise((r) => sock.once('connect', r));
  if (bytes.length > 0) sock.write(bytes);
  if (end) sock.end();
  const closed = new Promise((r) => sock.once('close', r)); // a reset is a close too
  await withTimeout(closed, 5000, 'the server to close the connection');
}

test('plain HTTP, garbage and a truncated handshake end their connection only, counted', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    listen: [{ host: '127.0.0.1', port: 0, tls: main }],
  });
  const good = await tlsConnect(port, main.cert);
  await rawClient(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')); // plain HTTP
  await rawClient(port, Buffer.concat([Buffer.from([0x17]), randomBytes(63)])); // no handshake
  const hello = await clientHello();
  await rawClient(port, hello.subarray(0, hello.length >> 1), true);
  await waitFor(() => (tlsOf(loop).tlsHandshakeFailures ?? 0) >= 3, 'three failures counted');
  good.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [answer] = (await withTimeout(once(good, 'data'), 5000, 'an answer')) as [Buffer];
  assert.match(answer.toString(), /^HTTP\/1.1 200/);
});

test('a silent client is closed at tls-handshake-timeout-ms; past tls-max-handshakes, at once', async () => {
  const limits = { 'tls-handshake-timeout-ms': 200, 'tls-max-handshakes': 3 };
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    listen: [{ host: '127.0.0.1', port: 0, tls: main }],
    limits,
  });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 5 }, () => rawClient(port, Buffer.alloc(0))));
  assert.ok(Date.now() - t0 < 3000, 'closed by the handshake timeout, not the idle timeout');
  const s = await waitFor(() => {
    const s = tlsOf(loop);
    return (s.tlsHandshakeTimeouts ?? 0) + (s.tlsHandshakesRefused ?? 0) >= 5 && s;
  }, 'the five counted');
  assert.is(s.tlsHandshakeTimeouts, 3);
  assert.is(s.tlsHandshakesRefused, 2);
});

test('2,000 failed handshakes leak no fd', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    listen: [{ host: '127.0.0.1', port: 0, tls: main }],
  });
  const before = openFds();
  for (let round = 0; round < 20; round++)
    await Promise.all(Array.from({ length: 100 }, () => rawClient(port, randomBytes(32), true)));
  await waitFor(
    () => (tlsOf(loop).tlsHandshakeFailures ?? 0) >= 2000,
    'every failure counted',
    10000,
  );
  await waitFor(() => openFds() <= before, `fds back to ${before}`);
});

test.run();
