/**
 * The HTTP SDK over real loopback sockets (wasm/inspect.wasm, wasm/demo.wasm): eight
 * concurrent curl -F uploads of 10 MiB files, 1,000 keep-alive requests from Node's
 * http.Agent over 10 connections, pipelined requests with bodies over raw TCP, and a 100 MiB
 * streamed upload.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { parseAll } from './helpers/http-inspect.ts';
import { closeAllLoops, settledStats, startLoop } from './helpers/net-loop.ts';
import { killAllChildren, runCommand } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, track, waitFor, withTimeout } from './helpers/net-tcp.ts';

const test = suite('http-loopback');
const INSPECT = 'wasm/inspect.wasm';
const MiB = 1 << 20;

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmloop-http-'));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});
test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Tracks each socket http.Agent hands out once (a reused socket is handed out again). */
const seen = new WeakSet<object>();
function trackOnce(s: import('node:net').Socket): void {
  if (!seen.has(s)) {
    seen.add(s);
    track(s);
  }
}

test('8 concurrent curl -F uploads of 10 MiB: each file part reported with its size and SHA-256', async () => {
  const { loop, port } = await startLoop(INSPECT);
  const files = Array.from({ length: 8 }, (_, i) => {
    const data = randomBytes(10 * MiB);
    const path = join(dir, `up${i}.bin`);
    writeFileSync(path, data);
    return { path, sha: sha256(data) };
  });
  const runs = files.map((f) =>
    runCommand(
      'curl',
      ['-sS', '--fail', '-F', `file=@${f.path}`, `http://127.0.0.1:${port}/upload`],
      { timeoutMs: 60_000 },
    ),
  );
  const results = await Promise.all(runs);
  results.forEach((r, i) => {
    assert.is(r.code, 0, `curl ${i}: ${r.stderr}`);
    const json = JSON.parse(r.stdout);
    assert.is(json.method, 'POST');
    assert.is(json.multipart.complete, true, `upload ${i} complete`);
    const [part] = json.multipart.parts;
    assert.is(part.name, 'file');
    assert.is(part.filename, `up${i}.bin`);
    assert.is(part.size, 10 * MiB);
    assert.is(part.sha256, files[i]!.sha, `upload ${i} sha256`);
  });
  assert.is((await settledStats(loop)).requests, 8);
});

/** Request `i` through `agent`: odd ones POST a body, even ones GET; inspect's JSON answer
 *  names the target and the body's length. */
function agentRequest(port: number, agent: http.Agent, i: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const body = Buffer.from(`request ${i}`);
    const req = http.request(
      {
        port,
        host: '127.0.0.1',
        path: `/r/${i}`,
        method: i % 2 ? 'POST' : 'GET',
        agent,
        headers: i % 2 ? { 'content-length': body.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            assert.is(res.statusCode, 200);
            const json = JSON.parse(Buffer.concat(chunks).toString());
            assert.is(json.target, `/r/${i}`);
            assert.is(json.bodyLength, i % 2 ? body.length : 0);
            resolve();
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('socket', trackOnce);
    req.on('error', reject);
    req.end(i % 2 ? body : undefined);
  });
}

test('1,000 keep-alive requests over 10 connections from http.Agent', async () => {
  const { loop, port } = await startLoop(INSPECT);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  await withTimeout(
    Promise.all(Array.from({ length: 1000 }, (_, i) => agentRequest(port, agent, i))),
    30_000,
    '1000 requests',
  );
  agent.destroy();
  const stats = await settledStats(loop);
  assert.is(stats.requests, 1000);
  assert.ok(stats.accepted <= 10, `${stats.accepted} connections`);
});

test('a handler that traps: that request gets 500, 10 keep-alive connections carry on unbroken', async () => {
  const trapped: string[] = [];
  const { loop, port } = await startLoop('wasm/demo.wasm', {
    onTrap: (err) => trapped.push(err.message),
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  const get = (path: string, via: http.Agent | false) =>
    new Promise<{ status: number; body: string; reused: boolean }>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path, agent: via }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: Buffer.concat(chunks).toString(),
            reused: req.reusedSocket,
          }),
        );
      });
      req.on('socket', trackOnce);
      req.on('error', reject);
      req.end();
    });
  const round = () => Promise.all(Array.from({ length: 10 }, () => get('/', agent)));
  await withTimeout(round(), 10_000, 'the first round');
  const crash = await withTimeout(get('/crash', false), 10_000, 'the crash request');
  assert.is(crash.status, 500);
  await waitFor(() => trapped.length > 0 || undefined, 'the trap report (from the worker thread)');
  assert.is(trapped.length, 1);
  assert.match(trapped[0]!, 'the /crash handler crashed');
  for (let i = 0; i < 10; i++) {
    const results = await withTimeout(round(), 10_000, `round ${i}`);
    for (const r of results)
      assert.equal([r.status, r.body, r.reused], [200, 'Hello from wasmloop!\n', true]);
  }
  agent.destroy();
  const stats = await settledStats(loop);
  assert.is(stats.restarts, 1);
  assert.is(stats.accepted, 11, 'no connection of the pool was lost and reopened');
});

test('pipelined requests with bodies in one write are answered in order', async () => {
  const { port } = await startLoop(INSPECT);
  const c = await RawClient.connect(port);
  const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(i * 3000));
  const reqs = bodies.map((b, i) =>
    i % 3 === 2
      ? Buffer.concat([
          Buffer.from(
            `PUT /p/${i} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n`,
          ),
          b,
          Buffer.from('\r\n0\r\n\r\n'),
        ])
      : Buffer.concat([
          Buffer.from(
            `POST /p/${i} HTTP/1.1\r\nHost: a\r\nContent-Length: ${b.length}\r\n${i === 19 ? 'Connection: close\r\n' : ''}\r\n`,
          ),
          b,
        ]),
  );
  await c.write(Buffer.concat(reqs));
  const responses = parseAll(await c.readToEnd(10_000));
  assert.is(responses.length, 20);
  responses.forEach((r, i) => {
    const json = JSON.parse(r.body.toString('latin1'));
    assert.is(json.target, `/p/${i}`);
    assert.is(json.bodyLength, bodies[i]!.length);
    assert.is(json.bodySha256, sha256(bodies[i]!));
  });
});

test('a 100 MiB chunked upload streams through: the SHA-256 matches', async () => {
  const { loop, port } = await startLoop(INSPECT);
  const piece = randomBytes(MiB);
  const hash = createHash('sha256');
  const result = new Promise<string>((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path: '/big', method: 'PUT' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('socket', trackOnce);
    req.on('error', reject);
    let sent = 0;
    const more = () => {
      while (sent < 100) {
        hash.update(piece);
        sent++;
        if (!req.write(piece)) {
          req.once('drain', more);
          return;
        }
      }
      req.end();
    };
    more();
  });
  const json = JSON.parse(await withTimeout(result, 60_000, '100 MiB upload'));
  assert.is(json.bodyLength, 100 * MiB);
  assert.is(json.bodySha256, hash.digest('hex'));
  assert.ok((await settledStats(loop)).buffersInUse < 8, 'no buffers held after the upload');
});

test.run();
