/**
 * Hostcalls per wake-up (docs/DESIGN.md, "One tick"): however many keep-alive connections are
 * readable, a wake-up makes one recv_many and one send_many and no epoll_ctl; at one
 * connection the batches of one reach the kernel as one recv and one send
 * (host/io-batch.ts). Counted at the simulated kernel, over several rounds of requests.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimKernel } from '../host/kernel/sim/kernel.ts';
import { FLAVOURS, simLoop } from './helpers/sim.ts';

const COUNTED = ['recvMany', 'sendMany', 'recv', 'send', 'epollCtl'] as const;
type Counts = Record<(typeof COUNTED)[number], number>;

/** Counts the kernel calls the loop makes; ioMany's own per-record recv/send are not counted. */
function countCalls(k: SimKernel): Counts {
  const counts = Object.fromEntries(COUNTED.map((n) => [n, 0])) as Counts;
  let nested = 0;
  for (const name of COUNTED) {
    const fn = (k[name] as (...a: unknown[]) => number).bind(k);
    (k as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      if (nested === 0) counts[name]++;
      nested++;
      try {
        return fn(...a);
      } finally {
        nested--;
      }
    };
  }
  return counts;
}

const REQUESTS = {
  echo: (i: number) => `message ${i}`,
  hello: () => 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
} as const;

for (const flavour of FLAVOURS) {
  const test = suite(`sim hostcalls (${flavour})`);

  for (const guest of ['echo', 'hello'] as const) {
    for (const conns of [1, 8]) {
      test(`${guest}, ${conns} connection(s): each wake-up is one receive and one send batch, no epoll_ctl`, async () => {
        const s = await simLoop(guest, { flavour });
        const peers = Array.from({ length: conns }, () => s.connect());
        s.run();
        const counts = countCalls(s.kernel);
        for (let round = 0; round < 5; round++) {
          COUNTED.forEach((n) => (counts[n] = 0));
          peers.forEach((p, i) => p.write(REQUESTS[guest](i)));
          assert.is(s.loop.tick(), conns, 'every connection reported in one wake-up');
          const batch =
            conns > 1
              ? { recvMany: 1, sendMany: 1, recv: 0, send: 0 }
              : { recvMany: 0, sendMany: 0, recv: 1, send: 1 };
          assert.equal(counts, { ...batch, epollCtl: 0 }, `round ${round}`);
          peers.forEach((p, i) => {
            const out = p.readText();
            assert.ok(
              guest === 'echo' ? out === REQUESTS.echo(i) : out.startsWith('HTTP/1.1 200 OK'),
              `answer ${i}: ${out}`,
            );
          });
        }
      });
    }
  }

  test.run();
}
