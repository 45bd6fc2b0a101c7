/**
 * Certificates swapped while serving (docs/SECURITY.md, "TLS"): `setCertificate` under
 * `workers: 2`, and the CLI's SIGHUP reading `--tls-cert`/`--tls-key` (and SNI) files again.
 * New handshakes get the new certificates on every worker, connections already up keep
 * answering, and an unusable pair changes nothing.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { setCertificate, WasmloopError } from '../host/index.ts';
import { closeAllClients, waitFor } from './helpers/net-tcp.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { killAllChildren, startChild, type Child } from './helpers/net-spawn.ts';
import { makeCert, type TestCert } from './helpers/tls-certs.ts';
import { answers, readUntil, tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls-reload');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
const first = makeCert('localhost', '127.0.0.1');
const second = makeCert('localhost', '127.0.0.1');
const sniFirst = makeCert('other.test');
const sniSecond = makeCert('other.test');

test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

const fingerprint = (c: TestCert): string => new X509Certificate(c.cert).fingerprint256;

/** The fingerprint of the certificate a new connection to `port` is served (by SNI `name`). */
async function served(port: number, ca: TestCert, name = 'localhost'): Promise<string> {
  const sock = await tlsConnect(port, ca.cert, { servername: name });
  const got = sock.getPeerCertificate().fingerprint256;
  sock.destroy();
  return got;
}

/** A connection made before a swap still answers. */
async function stillAnswers(sock: TLSSocket): Promise<void> {
  sock.write(GET);
  assert.is(answers(await readUntil(sock, (b) => answers(b) === 1)), 1);
}

test('setCertificate under workers: 2: every worker serves the new pair; a bad one changes nothing', async () => {
  const tls = { ...first, sni: [sniFirst] };
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    listen: [{ host: '127.0.0.1', port: 0, tls }],
    workers: 2,
  });
  const before = await tlsConnect(port, first.cert);
  setCertificate(loop, 0, { ...second, sni: [sniSecond] });
  const got = await Promise.all(Array.from({ length: 8 }, () => served(port, second)));
  assert.equal(new Set(got), new Set([fingerprint(second)]), 'all eight from the new pair');
  assert.is(await served(port, sniSecond, 'other.test'), fingerprint(sniSecond));
  await stillAnswers(before);
  const mismatched = { cert: first.cert, key: second.key, sni: [sniFirst] };
  assert.throws(
    () => setCertificate(loop, 0, mismatched),
    (e: unknown) => e instanceof WasmloopError && e.code === 'ERR_WASMLOOP_TLS',
  );
  assert.is(await served(port, second), fingerprint(second), 'the old pair serves on');
  assert.is(await served(port, sniSecond, 'other.test'), fingerprint(sniSecond));
});

/** `wasmloop run` of hello with two workers on a TLS listener of these files. */
async function serveCli(cert: string, key: string): Promise<{ child: Child; port: number }> {
  const args = ['bin/wasmloop.js', 'run', 'wasm/hello.wasm', '--workers', '2']
    .concat(['--tcplisten', '127.0.0.1:0'])
    .concat(['--tls-cert', cert, '--tls-key', key]);
  const child = startChild(process.execPath, args, { cwd: ROOT });
  const serving = () => /serving \S+ on 127\.0\.0\.1:(\d+)/.exec(child.stderr())?.[1];
  return { child, port: Number(await waitFor(serving, 'serving')) };
}

test('CLI --workers 2: SIGHUP reads the certificate files again; a bad file is one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-tls-reload-'));
  try {
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    copyFileSync(first.certFile, cert);
    copyFileSync(first.keyFile, key);
    const { child, port } = await serveCli(cert, key);
    const before = await tlsConnect(port, first.cert);
    copyFileSync(second.certFile, cert);
    copyFileSync(second.keyFile, key);
    child.proc.kill('SIGHUP');
    await waitFor(
      () => child.stderr().includes('reloaded the certificates of listener 0'),
      'reload',
    );
    const got = await Promise.all(Array.from({ length: 6 }, () => served(port, second)));
    assert.equal(new Set(got), new Set([fingerprint(second)]));
    await stillAnswers(before);
    writeFileSync(key, 'not a key');
    child.proc.kill('SIGHUP');
    const line = await waitFor(
      () =>
        child
          .stderr()
          .split('\n')
          .find((l) => l.includes('old certificates serve on')),
      'the failure line',
    );
    assert.match(line, /^wasmloop: SIGHUP: listener 0: the key is not readable PEM/);
    assert.is(await served(port, second), fingerprint(second));
    assert.is(child.proc.exitCode, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
