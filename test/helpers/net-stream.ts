/**
 * A streaming client for loopback tests: it writes a payload in seeded random chunks (sometimes
 * waiting for 'drain'), half-closes, and hashes the reply until the server's EOF; and `seeded`,
 * which runs a test body with a fresh seed and prints it on failure so the run can be replayed
 * (WASMLOOP_TEST_SEED=N).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { testSeed, type Rng } from './net-random.ts';
import { track, withTimeout } from './net-tcp.ts';

export interface StreamReply {
  received: number;
  /** SHA-256 (hex) of everything received. */
  digest: string;
  /** The server's EOF arrived after the reply. */
  ended: boolean;
}

/** Sends `data` to 127.0.0.1:port in chunks of `chunkSize(r)` bytes, half-closes, and collects
 *  the reply until EOF. Fails (rather than hangs) after generous timeouts. */
export async function streamThrough(
  port: number,
  data: Uint8Array,
  r: Rng,
  chunkSize: (r: Rng) => number,
): Promise<StreamReply> {
  const sock = track(net.connect({ port, host: '127.0.0.1' }));
  const hash = createHash('sha256');
  let received = 0;
  let ended = false;
  const finished = new Promise<void>((resolve, reject) => {
    sock.on('data', (b: Buffer) => {
      hash.update(b);
      received += b.length;
    });
    sock.on('end', () => {
      ended = true;
      resolve();
    });
    sock.on('error', reject);
    sock.on('close', () =>
      reject(new Error(`closed without EOF after ${received} of ${data.length} bytes`)),
    );
  });
  finished.catch(() => {}); // observed below; avoid an unhandled rejection while still writing
  await withTimeout(once(sock, 'connect'), 5000, 'connect');
  for (let off = 0; off < data.length;) {
    const n = Math.min(chunkSize(r), data.length - off);
    const ok = sock.write(data.subarray(off, off + n));
    off += n;
    if (!ok && r.next() < 0.5)
      await withTimeout(Promise.race([once(sock, 'drain'), finished]), 20000, 'drain');
  }
  sock.end();
  await withTimeout(finished, 30000, `reply to ${data.length} bytes (got ${received})`);
  return { received, digest: hash.digest('hex'), ended };
}

/** Runs `body` with a fresh seed; on failure prints the seed so the run can be replayed. */
export async function seeded(name: string, body: (seed: number) => Promise<void>): Promise<void> {
  const seed = testSeed();
  try {
    await body(seed);
  } catch (err) {
    console.error(`\n${name}: failed with WASMLOOP_TEST_SEED=${seed}`);
    if (err instanceof Error) err.message += ` (WASMLOOP_TEST_SEED=${seed})`;
    throw err;
  }
}
