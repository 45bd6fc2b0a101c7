/**
 * assembly/crypto/sha256.ts through wasm/inspect.wasm's bodySha256: the FIPS 180-4 example
 * messages (digests from the standard), every length around the padding boundaries, and the
 * same bodies fed in pieces of every size from 1 to 70 bytes (update() across block edges).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256hex } from './helpers/http-inspect.ts';
import { POST, send } from './helpers/http-sim.ts';
import { FLAVOURS, pattern, simLoop, type SimLoop } from './helpers/sim.ts';

/** FIPS 180-4 / NIST CSRC examples: message, expected digest. */
const VECTORS: Array<[string, string]> = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [
    'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  ],
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
  ['a'.repeat(1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

function bodySha(s: SimLoop, body: Buffer, piece?: number): { len: number; sha: string } {
  const peer = s.connect();
  if (piece !== undefined) peer.maxRecv = piece;
  const out = send(s, peer, POST('/', body)).toString('latin1');
  const json = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
  peer.close();
  return { len: json.bodyLength, sha: json.bodySha256 };
}

for (const flavour of FLAVOURS) {
  const test = suite(`sha256 (${flavour})`);

  test('the FIPS 180-4 examples', async () => {
    const s = await simLoop('inspect', { flavour });
    for (const [msg, digest] of VECTORS) {
      const got = bodySha(s, Buffer.from(msg, 'latin1'));
      assert.is(got.sha, digest, `${msg.length} bytes`);
      assert.is(got.len, msg.length);
    }
  });

  test('every length from 0 to 200 bytes (padding crosses a block at 56)', async () => {
    const s = await simLoop('inspect', { flavour });
    const data = Buffer.from(pattern(200, 5));
    for (let n = 0; n <= 200; n++)
      assert.is(bodySha(s, data.subarray(0, n)).sha, sha256hex(data.subarray(0, n)), `${n} bytes`);
  });

  test('a 1000-byte body received in pieces of 1 to 70 bytes', async () => {
    const s = await simLoop('inspect', { flavour });
    const data = Buffer.from(pattern(1000, 11));
    const want = sha256hex(data);
    for (let piece = 1; piece <= 70; piece++)
      assert.is(bodySha(s, data, piece).sha, want, `pieces of ${piece}`);
  });

  test.run();
}
