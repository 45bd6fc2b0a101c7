/**
 * TLS connections at the socket's edges (docs/SECURITY.md, "TLS"): writes to a peer that is
 * gone never raise SIGPIPE (the shim's socket BIO, host/native/tls-bio.c).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { makeCert } from './helpers/tls-certs.ts';
import { tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls-io');
const main = makeCert('localhost', '127.0.0.1');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

/** Uploads 2 MiB to echo, then closes the TCP stream under TLS before reading any echo: the
 *  server's next writes meet a closed socket (a reset, then EPIPE). */
async function uploadAndVanish(port: number): Promise<void> {
  const raw = track(net.connect(port, '127.0.0.1'));
  raw.on('error', () => {});
  const sock = tls.connect({ socket: raw, ca: main.cert, servername: 'localhost' });
  sock.on('error', () => {});
  await withTimeout(new Promise((r) => sock.once('secureConnect', r)), 5000, 'the handshake');
  await new Promise((r) => sock.write(Buffer.alloc(2 << 20, 'x'), r));
  raw.end(); // FIN with no close_notify: the server is in CLOSE_WAIT
  await withTimeout(new Promise((r) => raw.once('finish', r)), 5000, 'the FIN');
  raw.destroy(); // closed: the echo that arrives now is answered with a reset
}

test('SIGPIPE at SIG_DFL: writes to a vanished TLS peer do not kill the process', async () => {
  const args = ['--import', 'tsx', 'test/helpers/tls-sigpipe-child.ts'];
  const child = startChild(process.execPath, [...args, main.certFile, main.keyFile], {
    cwd: ROOT,
  });
  const port = Number(await waitFor(() => /port (\d+)/.exec(child.stdout())?.[1], 'serving'));
  const dead = () => `the child died (${child.proc.signalCode ?? child.proc.exitCode})`;
  for (let i = 0; i < 3; i++) {
    await uploadAndVanish(port).catch((err: Error) => {
      throw child.proc.exitCode === null && child.proc.signalCode === null
        ? err
        : new Error(dead());
    });
  }
  const alive = await tlsConnect(port, main.cert);
  alive.write('still here');
  const [back] = (await withTimeout(
    new Promise((r) => alive.once('data', (b: Buffer) => r([b]))),
    5000,
    'an echo',
  )) as [Buffer];
  assert.is(back.toString(), 'still here');
  assert.is(child.proc.signalCode, null, dead());
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

test.run();
