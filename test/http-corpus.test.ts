/**
 * The request corpus (test/http/*.txt) through wasm/inspect.wasm over the simulated kernel:
 * every case fed whole, split in two at every byte boundary, and one byte per recv, in both
 * builds; each time the responses must be byte-for-byte what the case expects, and the
 * connection must close exactly when the case says so.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCorpus, type Case } from './helpers/http-corpus.ts';
import { compare, parseAll } from './helpers/http-inspect.ts';
import { FLAVOURS, simLoop, type Flavour, type SimLoop } from './helpers/sim.ts';

const CASES = loadCorpus();

/** Loops by flavour and limits: one loop serves many connections. */
const loops = new Map<string, SimLoop>();
async function loopFor(flavour: Flavour, limits: Record<string, number>): Promise<SimLoop> {
  const key = `${flavour} ${JSON.stringify(limits)}`;
  let s = loops.get(key);
  if (!s) loops.set(key, (s = await simLoop('inspect', { flavour, limits })));
  return s;
}

/** Sends `pieces` one after the other on a new connection; checks what came back. */
function feed(
  s: SimLoop,
  c: Case,
  pieces: Buffer[],
  maxRecv: number | undefined,
  how: string,
): void {
  const peer = s.connect();
  if (maxRecv !== undefined) peer.maxRecv = maxRecv;
  const out: Buffer[] = [];
  for (const p of pieces) {
    peer.write(p);
    s.run();
    out.push(Buffer.from(peer.read()));
  }
  const where = `${c.file}:${c.line} ${c.name} (${how})`;
  checkResponses(Buffer.concat(out), c, where);
  assert.is(
    peer.serverShutWrite,
    c.closes,
    `${where}: the server ${c.closes ? 'must' : 'must not'} close`,
  );
  if (!c.closes) peer.close();
  s.run();
  assert.equal(
    s.traps.map((t) => t.message),
    [],
    `${where}: no trap`,
  );
}

/** The responses in `bytes` are the ones `c` expects, each `continued` one after a 100
 *  Continue. */
function checkResponses(bytes: Buffer, c: Case, where: string): void {
  const got = parseAll(
    bytes,
    c.responses.map((e) => e.method === 'HEAD'),
  );
  const want = c.responses.flatMap((e) => (e.continued ? [null, e] : [e]));
  assert.is(
    got.length,
    want.length,
    `${where}: ${got.length} responses, want ${want.length}: ${got.map((g) => g.statusLine).join(' | ')}`,
  );
  want.forEach((e, i) => {
    if (e === null) {
      assert.is(
        got[i]!.raw.toString('latin1'),
        'HTTP/1.1 100 Continue\r\n\r\n',
        `${where}: interim`,
      );
      return;
    }
    const diff = compare(got[i]!, e);
    assert.ok(diff === null, `${where}: response ${i}: ${diff}`);
  });
}

/** Split points: all of them for requests up to 4 KiB; for larger ones every point near the
 *  ends and every 61st in between (a byte-by-byte feed covers each boundary anyway). */
function splitPoints(len: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < len; k++)
    if (len <= 4096 || k < 256 || len - k < 256 || k % 61 === 0) out.push(k);
  return out;
}

/** Cases that leave the connection open and idle: they can follow one another on one
 *  connection. */
const CHAINABLE = CASES.filter(
  (c) => !c.closes && !c.incomplete && Object.keys(c.limits).length === 0,
);

for (const flavour of FLAVOURS) {
  const test = suite(`http corpus (${flavour})`);
  test(`${CASES.length} cases, at least 150`, () => {
    assert.ok(CASES.length >= 150, `${CASES.length} cases`);
  });
  for (const c of CASES) {
    test(`${c.file}: ${c.name}`, async () => {
      const s = await loopFor(flavour, c.limits);
      feed(s, c, [c.request], undefined, 'whole');
      for (const k of splitPoints(c.request.length)) {
        feed(s, c, [c.request.subarray(0, k), c.request.subarray(k)], undefined, `split at ${k}`);
      }
      feed(s, c, [c.request], 1, 'byte by byte');
    });
  }
  test(`the ${CHAINABLE.length} keep-alive cases pipelined on one connection, in random recv sizes`, async () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 8; round++) {
      const order = [...CHAINABLE].sort(() => random() - 0.5);
      const all: Case = {
        ...order[0]!,
        name: `round ${round}`,
        request: Buffer.concat(order.map((c) => c.request)),
        responses: order.flatMap((c) => c.responses),
      };
      const s = await loopFor(flavour, {});
      const cuts: Buffer[] = [];
      for (let at = 0; at < all.request.length;) {
        const n = 1 + Math.floor(random() * 300);
        cuts.push(all.request.subarray(at, at + n));
        at += n;
      }
      feed(s, all, cuts, 1 + Math.floor(random() * 64), `round ${round}`);
    }
  });

  test.run();
}
