/**
 * Heads that arrive in pieces on several connections at once (wasm/inspect.wasm over the
 * simulated kernel). The SDK indexes a head's field lines as the scanner passes them, in one
 * table shared by every connection (assembly/http/scan.ts, Scan.table); a head whose scan
 * began in an earlier call is indexed again once complete, since another connection's head may
 * have used the table in between. Each connection must see its own fields.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { pump } from './helpers/http-sim.ts';
import { inspectJson, parseAll, sha256hex } from './helpers/http-inspect.ts';

const EMPTY_SHA = sha256hex(Buffer.alloc(0));

function head(i: number): { raw: string; headers: Array<[string, string]> } {
  const headers: Array<[string, string]> = [
    ['Host', `h${i}`],
    [`X-Conn-${i}`, ` \tvalue ${i} `.repeat(i + 1)],
    ['Content-Length', '0'],
    ['X-Last', String(i).repeat(40)],
  ];
  const raw = `GET /c${i} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}:${v}\r\n`).join('')}\r\n`;
  const trimmed = headers.map(
    ([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, '')] as [string, string],
  );
  return { raw, headers: trimmed };
}

for (const flavour of FLAVOURS) {
  const test = suite(`interleaved heads (${flavour})`);

  test('heads split across calls on four connections each get their own fields', async () => {
    const s = await simLoop('inspect', { flavour });
    const heads = [0, 1, 2, 3].map(head);
    const peers = heads.map(() => s.connect());
    for (let piece = 0; piece < 5; piece++) {
      peers.forEach((peer, i) => {
        const raw = Buffer.from(heads[i]!.raw, 'latin1');
        const step = Math.ceil(raw.length / 5);
        peer.write(raw.subarray(piece * step, (piece + 1) * step));
        s.run(); // this piece is scanned before the next connection's
      });
    }
    peers.forEach((peer, i) => {
      const [res] = parseAll(pump(s, peer));
      const want = inspectJson(
        { method: 'GET', target: `/c${i}`, version: 'HTTP/1.1', headers: heads[i]!.headers },
        0,
        EMPTY_SHA,
      );
      assert.is(res!.body.toString('latin1'), want, `connection ${i}`);
    });
  });

  test('a head complete in one call is indexed as scanned, leading empty lines and all', async () => {
    const s = await simLoop('inspect', { flavour });
    const peer = s.connect();
    const h = head(2);
    peer.write(Buffer.from('\r\n' + h.raw + head(3).raw, 'latin1'));
    const [a, b] = parseAll(pump(s, peer));
    const json = (i: number, hh: Array<[string, string]>) =>
      inspectJson(
        { method: 'GET', target: `/c${i}`, version: 'HTTP/1.1', headers: hh },
        0,
        EMPTY_SHA,
      );
    assert.is(a!.body.toString('latin1'), json(2, h.headers));
    assert.is(b!.body.toString('latin1'), json(3, head(3).headers));
  });

  test.run();
}
