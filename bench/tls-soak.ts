/**
 * The TLS soak of issue 15 (docs/PERFORMANCE.md, "TLS"): N failed handshakes against a TLS
 * listener of hello.wasm (half garbage, half a real ClientHello cut in two), then checks that
 * every fd was closed and that memory settled. Run once by hand, not in CI (minutes):
 *
 *   node --import tsx bench/tls-soak.ts [N=100000]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';

import { createLoop, type TlsStats } from '../host/index.ts';

const total = Number(process.argv[2] ?? 100000);
const CONCURRENCY = 200;
const dir = mkdtempSync(join(tmpdir(), 'wasmloop-soak-'));
execFileSync(
  'openssl',
  ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'].concat([
    '-nodes',
    '-keyout',
    `${dir}/k`,
    '-out',
    `${dir}/c`,
    '-days',
    '2',
    '-subj',
    '/CN=x',
  ]),
  {
    stdio: 'ignore',
  },
);
const cert = readFileSync(`${dir}/c`, 'utf8');
const key = readFileSync(`${dir}/k`, 'utf8');

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** A real ClientHello, caught by a plain server. */
async function clientHello(): Promise<Buffer> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((r) => server.once('connection', (s) => s.once('data', r)));
  const client = tls.connect({ port, host: '127.0.0.1' }).on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

function fail(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end(bytes));
    sock
      .on('error', () => {})
      .on('data', () => {})
      .once('close', () => resolve());
  });
}

const loop = await createLoop({
  module: 'wasm/hello.wasm',
  listen: [{ port: 0, tls: { cert, key } }],
});
const port = loop.address().port;
const hello = await clientHello();
const half = hello.subarray(0, hello.length >> 1);
const fdsBefore = fds();
const t0 = performance.now();
let rssAt10 = 0;
for (let done = 0; done < total; done += CONCURRENCY) {
  const n = Math.min(CONCURRENCY, total - done);
  await Promise.all(
    Array.from({ length: n }, (_, i) => fail(port, i & 1 ? half : randomBytes(32))),
  );
  if (rssAt10 === 0 && done >= total / 10) rssAt10 = rssMiB();
}
const seconds = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 500)); // the worker publishes its counters every 50 ms
const s = loop.stats() as Partial<TlsStats>;
console.log(
  `${total} failed handshakes in ${seconds.toFixed(1)} s; counted: ${s.tlsHandshakeFailures} ` +
    `failures, ${s.tlsHandshakes} handshakes; fds ${fdsBefore} before, ${fds()} after; ` +
    `rss ${rssAt10} MiB at 10%, ${rssMiB()} MiB at the end`,
);
await loop.close({ graceMs: 0 });
