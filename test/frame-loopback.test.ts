/**
 * wasm/frame.wasm (and its debug build) over real loopback sockets: 50 concurrent clients each
 * send random frames of up to 1 MiB (the default max-frame-bytes) in random chunks, half-close,
 * and must get exactly their frames back, then EOF; beside them, clients with a bad magic or a
 * length over the limit get the frames before it and then EOF, without disturbing the others.
 * Randomness is seeded: a failure prints the seed; replay with WASMLOOP_TEST_SEED=N.
 */
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { concat } from './props/model.ts';
import { encodeFrame, FRAME_MAX_DEFAULT, frameHeader } from './props/frame.ts';
import { closeAllLoops, startLoop, waitStats } from './helpers/net-loop.ts';
import { rng, type Rng } from './helpers/net-random.ts';
import { seeded, streamThrough } from './helpers/net-stream.ts';
import { closeAllClients } from './helpers/net-tcp.ts';

const test = suite('frame-loopback');

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const FLAVOURS = ['wasm/frame.wasm', 'wasm/debug/frame.wasm'];
const CLIENTS = 50;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A payload size: mostly small, some beyond 64 KiB, a few at or near the 1 MiB limit. */
function frameSize(r: Rng): number {
  const p = r.next();
  if (p < 0.4) return r.int(0, 1024);
  if (p < 0.7) return r.int(1025, 64 * 1024);
  if (p < 0.9) return r.int(64 * 1024 + 1, 512 * 1024);
  if (p < 0.95) return FRAME_MAX_DEFAULT;
  return r.int(512 * 1024, FRAME_MAX_DEFAULT);
}

/** Mostly chunks up to 128 KiB, some tiny ones. */
const chunkSize = (r: Rng) => (r.next() < 0.2 ? r.int(1, 16) : r.int(1, 128 * 1024));

/** What one client sends, what it must get back, and its own random stream for chunking. */
interface Job {
  input: Uint8Array;
  expect: Uint8Array;
  r: Rng;
}

/** CLIENTS clients with 1 to 4 sound frames each (the first may send none), echoed whole. */
function soundJobs(master: Rng): { jobs: Job[]; frames: number } {
  const jobs: Job[] = [];
  let frames = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const r = rng(master.int(0, 2 ** 32 - 1));
    const list = Array.from({ length: r.int(i === 0 ? 0 : 1, 4) }, () =>
      encodeFrame(r.bytes(frameSize(r))),
    );
    frames += list.length;
    const input = concat(list);
    jobs.push({ input, expect: input, r });
  }
  return { jobs, frames };
}

/** Refused clients: a frame, then a bad magic or a length one over the limit, then more; only
 *  the first frame comes back. */
function refusedJobs(master: Rng): Job[] {
  const before = encodeFrame(master.bytes(70_000));
  return [
    Uint8Array.of(0x57, 0x4c, 0x46, 0x32, 0, 0, 0, 1),
    frameHeader(FRAME_MAX_DEFAULT + 1),
  ].map((bad) => ({
    input: concat([before, bad, encodeFrame(master.bytes(100))]),
    expect: before,
    r: rng(master.int(0, 2 ** 32 - 1)),
  }));
}

for (const module of FLAVOURS) {
  test(`${module}: ${CLIENTS} clients with random frames up to 1 MiB each get exactly their frames back; bad ones only end themselves`, () =>
    seeded(module, async (seed) => {
      const { loop, port } = await startLoop(module);
      const master = rng(seed);
      const { jobs, frames } = soundJobs(master);
      jobs.push(...refusedJobs(master));
      const replies = await Promise.all(
        jobs.map((j) => streamThrough(port, j.input, j.r, chunkSize)),
      );
      replies.forEach((res, i) => {
        const want = jobs[i]!.expect;
        assert.is(res.received, want.length, `client ${i}: bytes echoed`);
        assert.is(res.digest, sha(want), `client ${i}: echoed bytes differ`);
        assert.ok(res.ended, `client ${i}: no EOF`);
      });
      const stats = await waitStats(loop, (s) => s.open === 0, 'open === 0');
      assert.is(stats.accepted, jobs.length);
      assert.is(stats.closed, jobs.length);
      assert.is(stats.protocolErrors, 2);
      assert.is(stats.requests, frames + 2);
      assert.is(stats.restarts, 0);
      assert.is(stats.buffersInUse, 0);
    }));
}

test.run();
