/**
 * Response text written with end(s) (wasm/demo.wasm's /hello?name=..., over the simulated
 * kernel): ASCII text takes a shortcut (assembly/http/put.ts asciiLength/putAsciiString, four
 * characters at a time), anything else is encoded as UTF-8; both must give the same bytes and
 * a Content-Length that counts bytes, at every length around the four-character steps.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { GET, headerOf, send } from './helpers/http-sim.ts';
import { parseAll } from './helpers/http-inspect.ts';

const NAMES = [
  ...Array.from({ length: 10 }, (_, n) => 'abcdefghij'.slice(0, n)),
  'é',
  'abcé',
  'abcdé',
  'é€😀',
  'aaaaaaa€',
  '\u007f\u0080',
];

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk text (${flavour})`);

  test('end(s): the UTF-8 bytes of the text, and their count as Content-Length', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    for (const name of NAMES) {
      const out = send(s, peer, GET(`/hello?name=${encodeURIComponent(name)}`));
      const [res] = parseAll(out);
      const want = Buffer.from(`Hello, ${name}!\n`, 'utf8');
      assert.ok(res!.body.equals(want), `${JSON.stringify(name)}: ${res!.body.toString()}`);
      assert.is(headerOf(res!.headers, 'content-length'), String(want.length), name);
    }
  });

  test.run();
}
