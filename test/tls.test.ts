/**
 * TLS listeners serving real guests (docs/SECURITY.md, "TLS"): node:tls and node:https clients
 * over loopback, with certificates made for the test (test/helpers/tls-certs.ts). The guest
 * sees plaintext; the handshake, records and keys stay in the host.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { setCertificate, type TlsOptions, type TlsStats } from '../host/index.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { killAllChildren, runCommand, startChild } from './helpers/net-spawn.ts';
import { closeAllLoops, startLoop, trapRecorder, waitStats } from './helpers/net-loop.ts';
import { makeCert } from './helpers/tls-certs.ts';
import { answers, readUntil, tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls');
const main = makeCert('localhost', '127.0.0.1');
const tlsListen = (tls: TlsOptions = main) => ({ listen: [{ host: '127.0.0.1', port: 0, tls }] });
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';

test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

function httpsGet(port: number, opts: https.RequestOptions = {}): Promise<string> {
  const p = new Promise<string>((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, ca: main.cert, servername: 'localhost', agent: false, ...opts },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on('error', reject);
  });
  return withTimeout(p, 5000, 'an https answer');
}

test('hello over TLS 1.3 and 1.2; no TLS 1.1; the stats count the handshakes', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', tlsListen());
  assert.is(await httpsGet(port), '200 Hello, World!');
  assert.is(await httpsGet(port, { maxVersion: 'TLSv1.2' }), '200 Hello, World!');
  const old = httpsGet(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
  await old.then(
    () => assert.unreachable('TLS 1.1 was accepted'),
    () => {},
  );
  const tlsOf = (s: object) => s as Partial<TlsStats>;
  const counted = (s: object) => (tlsOf(s).tlsHandshakes ?? 0) >= 2;
  const s = tlsOf(await waitStats(loop, counted, 'two handshakes'));
  assert.is(s.tlsHandshakes, 2);
  assert.ok((s.tlsHandshakeFailures ?? 0) >= 1, 'the TLS 1.1 attempt counts as a failure');
});

test('inspect over TLS: a POST and its body reach the guest as sent', async () => {
  const { port } = await startLoop('wasm/inspect.wasm', tlsListen());
  const body = Buffer.from('over TLS');
  const at = { host: '127.0.0.1', port, method: 'POST', path: '/over/tls' };
  const answer = new Promise<string>((resolve, reject) => {
    const req = https.request(
      { ...at, ca: main.cert, servername: 'localhost', agent: false },
      (res) => {
        let text = ''; // inspect's JSON: method, target, headers, body length and hash
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.setHeader('content-length', body.length).end(body);
  });
  const json = JSON.parse(await withTimeout(answer, 5000, 'inspect')) as Record<string, unknown>;
  assert.is(json.method, 'POST');
  assert.is(json.target, '/over/tls');
  assert.is(json.bodyLength, body.length);
});

test('pipelining: three requests in one write, three answers', async () => {
  const { port } = await startLoop('wasm/hello.wasm', tlsListen());
  const sock = await tlsConnect(port, main.cert);
  sock.write(GET + GET + GET);
  const got = await readUntil(sock, (b) => answers(b) === 3);
  assert.is(answers(got), 3);
});

/** Uploads `size` random bytes to echo over TLS and checks the SHA-256 of what comes back,
 *  hashed as it arrives (no copy of the whole answer). */
async function echoUpload(port: number, size: number): Promise<void> {
  const sock = await tlsConnect(port, main.cert);
  const data = randomBytes(size);
  const sent = createHash('sha256').update(data).digest('hex');
  const hash = createHash('sha256');
  let got = 0;
  const back = new Promise<void>((resolve, reject) => {
    sock.on('data', (b: Buffer) => {
      hash.update(b);
      if ((got += b.length) >= size) resolve();
    });
    sock.once('end', resolve);
    sock.once('error', reject);
  });
  for (let at = 0; at < size; at += 256 * 1024) sock.write(data.subarray(at, at + 256 * 1024));
  await withTimeout(back, 20000, 'the echo');
  assert.is(got, size);
  assert.is(hash.digest('hex'), sent);
  sock.end();
}

test('8 uploads of 10 MiB at once through echo, SHA-256 intact', async () => {
  const { port } = await startLoop('wasm/echo.wasm', tlsListen());
  await Promise.all(Array.from({ length: 8 }, () => echoUpload(port, 10 << 20)));
});

test('libuv driver on the calling thread, and two workers, serve TLS', async () => {
  const a = await startLoop('wasm/echo.wasm', { ...tlsListen(), workers: 0 });
  await echoUpload(a.port, 1 << 20);
  const b = await startLoop('wasm/hello.wasm', { ...tlsListen(), workers: 2 });
  const got = await Promise.all(Array.from({ length: 8 }, () => httpsGet(b.port)));
  assert.equal(new Set(got), new Set(['200 Hello, World!']));
});

test('a peer that closes without close_notify ends only its connection', async () => {
  const { port } = await startLoop('wasm/hello.wasm', tlsListen());
  const sock = await tlsConnect(port, main.cert);
  sock.write(GET);
  await readUntil(sock, (b) => answers(b) === 1);
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n'); // half a request, then the TCP stream ends
  sock.destroy(); // no close_notify (end() would send one): the TCP stream just ends
  assert.is(await httpsGet(port), '200 Hello, World!');
});

test('SNI picks the certificate by name (unknown: the default); ALPN says http/1.1', async () => {
  const other = makeCert('other.test');
  const { port } = await startLoop('wasm/hello.wasm', tlsListen({ ...main, sni: [other] }));
  const byName = await tlsConnect(port, other.cert, { servername: 'other.test' });
  assert.is(byName.getPeerCertificate().subject.CN, 'other.test');
  const unknown = await tlsConnect(port, main.cert, {
    servername: 'nobody.test',
    checkServerIdentity: () => undefined,
  });
  assert.is(unknown.getPeerCertificate().subject.CN, 'localhost');
  const alpn = await tlsConnect(port, main.cert, { ALPNProtocols: ['h2', 'http/1.1'] });
  assert.is(alpn.alpnProtocol, 'http/1.1');
  const none = await tlsConnect(port, main.cert, { ALPNProtocols: ['h2'] });
  assert.is(none.alpnProtocol, false);
});

test('a session ticket resumes the session, across a certificate swap too', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', tlsListen());
  const ticket = async (opts = {}) => {
    const sock = await tlsConnect(port, main.cert, opts);
    const session = new Promise<Buffer>((r) => sock.once('session', r));
    sock.write(GET);
    await readUntil(sock, (b) => answers(b) === 1);
    return { sock, session: await withTimeout(session, 5000, 'a session ticket') };
  };
  const first = await ticket();
  const again = await ticket({ session: first.session });
  assert.ok(again.sock.isSessionReused(), 'the ticket resumed the session');
  const next = makeCert('localhost', '127.0.0.1');
  setCertificate(loop, 0, next);
  const resumed = await ticket({ session: again.session, ca: next.cert });
  assert.ok(resumed.sock.isSessionReused(), 'tickets from before the swap still resume');
  const fresh = await tlsConnect(port, next.cert);
  assert.is(
    fresh.getPeerCertificate().fingerprint256,
    new X509Certificate(next.cert).fingerprint256,
  );
  // A connection made before the swap keeps working.
  first.sock.write(GET);
  assert.is(answers(await readUntil(first.sock, (b) => answers(b) === 1)), 1);
});

test('a trap: a TLS connection between requests moves to the new instance with its session', async () => {
  const { traps, onTrap } = trapRecorder();
  const { port } = await startLoop('wasm/demo.wasm', { ...tlsListen(), onTrap });
  const idle = await tlsConnect(port, main.cert);
  idle.write(GET);
  await readUntil(idle, (b) => answers(b) === 1);
  const crash = await tlsConnect(port, main.cert);
  crash.write('GET /crash HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const reply = await readUntil(crash, (b) => answers(b) === 1);
  assert.match(reply.toString(), /^HTTP\/1.1 500/);
  await withTimeout(
    (async () => {
      while (traps.length === 0) await new Promise((r) => setTimeout(r, 10));
    })(),
    5000,
    'the trap',
  );
  idle.write(GET);
  const after = await readUntil(idle, (b) => answers(b) === 1);
  assert.match(after.toString(), /^HTTP\/1.1 200/);
});

test('tls_info: the guest learns TLS, ALPN and SNI; a plain listener says plain', async () => {
  const listen = [
    { host: '127.0.0.1', port: 0, tls: main },
    { host: '127.0.0.1', port: 0 },
  ];
  const { loop, port } = await startLoop('wasm/test/tls-info.wasm', { listen });
  const ask = async (sock: Duplex): Promise<string> => {
    sock.write('?');
    return (await readUntil(sock, (b) => b.includes(10))).toString();
  };
  const alpn = await tlsConnect(port, main.cert, { ALPNProtocols: ['http/1.1'] });
  assert.is(await ask(alpn), 'tls alpn=http/1.1 sni=localhost\n');
  const bare = await tlsConnect(port, main.cert, { servername: '' });
  assert.is(await ask(bare), 'tls alpn= sni=\n');
  const plain = track(net.connect(loop.addresses()[1]!.port, '127.0.0.1'));
  assert.is(await ask(plain), 'plain\n');
});

test('CLI: curl --cacert over --tls-cert, and over a --tls-sni-cert by name', async () => {
  const other = makeCert('other.test');
  const args = ['bin/wasmloop.js', 'run', 'wasm/hello.wasm', '--tcplisten', '127.0.0.1:0']
    .concat(['--tls-cert', main.certFile, '--tls-key', main.keyFile])
    .concat(['--tls-sni-cert', other.certFile, '--tls-sni-key', other.keyFile]);
  const child = startChild(process.execPath, args, { cwd: ROOT });
  const port = await waitFor(() => /127\.0\.0\.1:(\d+)/.exec(child.stderr())?.[1], 'serving');
  const curl = (ca: string, host: string) =>
    runCommand(
      'curl',
      ['-sS', '--cacert', ca, '--resolve', `${host}:${port}:127.0.0.1`].concat([
        `https://${host}:${port}/`,
      ]),
    );
  assert.is((await curl(main.certFile, 'localhost')).stdout, 'Hello, World!');
  assert.is((await curl(other.certFile, 'other.test')).stdout, 'Hello, World!');
});

test.run();
