/**
 * wasm/echo.wasm (and its debug build) over real loopback sockets: many concurrent clients
 * with random payloads in random chunks, half-close, and backpressure from a client that stops
 * reading. Randomness is seeded: a failure prints the seed; replay with WASMLOOP_TEST_SEED=N.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import type { WasmLoop } from '../host/index.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { closeAllLoops, settledStats, startLoop, waitStats } from './helpers/net-loop.ts';
import { rng, type Rng } from './helpers/net-random.ts';
import { seeded, streamThrough } from './helpers/net-stream.ts';

const test = suite('echo-loopback');

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const FLAVOURS = ['wasm/echo.wasm', 'wasm/debug/echo.wasm'];
const CLIENTS = 200;
const MAX_PAYLOAD = 1 << 20;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Mostly large chunks, some tiny and some medium ones: 1 byte .. 64 KiB. */
function chunkSize(r: Rng): number {
  const p = r.next();
  if (p < 0.15) return r.int(1, 16);
  if (p < 0.45) return r.int(1, 2048);
  return r.int(1, 64 * 1024);
}

/** Resolves once the loop's input count has not moved for 5 polls in a row (or after 10 s). */
async function inputSettled(loop: WasmLoop): Promise<void> {
  let last = -1;
  let steady = 0;
  await waitFor(
    () => {
      const now = loop.stats().bytesIn;
      steady = now === last ? steady + 1 : 0;
      last = now;
      return steady >= 5;
    },
    'the server to stop reading',
    10000,
  ).catch(() => {});
}

/** Resumes a paused socket and reads it to its end: how many bytes, and their SHA-256. */
async function readToEnd(sock: net.Socket): Promise<{ received: number; digest: string }> {
  const hash = createHash('sha256');
  let received = 0;
  sock.on('data', (b: Buffer) => {
    hash.update(b);
    received += b.length;
  });
  const ended = once(sock, 'end');
  sock.resume();
  await withTimeout(ended, 20000, `the rest of the echo (got ${received})`);
  return { received, digest: hash.digest('hex') };
}

for (const module of FLAVOURS) {
  test(`${module}: ${CLIENTS} concurrent clients each get exactly their random bytes back, then EOF`, () =>
    seeded(module, async (seed) => {
      const { loop, port } = await startLoop(module);
      const master = rng(seed);
      const jobs: Array<{ payload: Buffer; r: Rng }> = [];
      let total = 0;
      for (let i = 0; i < CLIENTS; i++) {
        // Client 0 sends nothing and client 1 a single byte: the edges of half-close.
        const size = i === 0 ? 0 : i === 1 ? 1 : master.int(0, MAX_PAYLOAD);
        const r = rng(master.int(0, 2 ** 32 - 1));
        jobs.push({ payload: r.bytes(size), r });
        total += size;
      }
      const results = await Promise.all(
        jobs.map((j) => streamThrough(port, j.payload, j.r, chunkSize)),
      );
      results.forEach((res, i) => {
        const sent = jobs[i]!.payload;
        assert.is(res.received, sent.length, `client ${i}: bytes echoed`);
        assert.is(res.digest, sha(sent), `client ${i}: echoed bytes differ`);
        assert.ok(res.ended, `client ${i}: no EOF`);
      });
      const stats = await waitStats(loop, (s) => s.open === 0, 'open === 0');
      assert.ok(stats.accepted >= CLIENTS, `accepted ${stats.accepted}`);
      assert.is(stats.closed, stats.accepted, 'every accepted connection was closed');
      assert.is(stats.bytesIn, total, 'bytesIn');
      assert.is(stats.bytesOut, total, 'bytesOut');
      assert.is(stats.protocolErrors, 0);
      assert.is(stats.restarts, 0);
    }));

  test(`${module}: a client that stops reading is held back (backpressure), then gets all 8 MiB in order`, () =>
    seeded(module, async (seed) => {
      const { loop, port } = await startLoop(module);
      const payload = rng(seed).bytes(8 << 20);
      const sock = track(net.connect({ port, host: '127.0.0.1' }));
      sock.pause();
      await withTimeout(once(sock, 'connect'), 5000, 'connect');
      for (let off = 0; off < payload.length; off += 64 * 1024)
        sock.write(payload.subarray(off, off + 64 * 1024));
      sock.end();

      // While we read nothing, the server must stop reading too once the buffers between us
      // are full: its input count settles below what we sent instead of swallowing it all.
      await inputSettled(loop);
      const held = await settledStats(loop);
      assert.ok(held.bytesIn > 0, 'the server read something');
      assert.ok(
        held.bytesIn < payload.length,
        `the server read all ${held.bytesIn} bytes while the client was not reading`,
      );
      assert.ok(held.bytesOut <= held.bytesIn);
      assert.is(held.open, 1);

      const { received, digest } = await readToEnd(sock);
      assert.is(received, payload.length);
      assert.is(digest, sha(payload), 'bytes lost, reordered or corrupted');
      const stats = await waitStats(loop, (s) => s.open === 0, 'open === 0');
      assert.is(stats.bytesIn, payload.length);
      assert.is(stats.bytesOut, payload.length);
    }));
}

test.run();
