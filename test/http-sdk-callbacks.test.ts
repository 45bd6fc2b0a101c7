/**
 * A request's onData and onEnd callbacks are its own: whichever pooled request object serves a
 * connection next (test/http-sdk-memory.test.ts: pairs go back to a pool between requests),
 * a request that registered none never reaches callbacks an earlier request on that
 * connection, or on another, left behind.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { GET, POST, send } from './helpers/http-sim.ts';
import { parseAll } from './helpers/http-inspect.ts';

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk callbacks (${flavour})`);

  test('callbacks do not outlive their request, whichever pooled request comes next', async () => {
    const s = await simLoop('demo', { flavour });
    const a = s.connect();
    const b = s.connect();
    // /echo registers onData and onEnd on a's connection.
    const [echoed] = parseAll(send(s, a, POST('/echo', 'abc')));
    assert.is(echoed!.body.toString(), 'abc');
    // a is idle: its request object is back in the pool, and b's request takes it.
    const [greeted] = parseAll(send(s, b, GET('/')));
    assert.is(greeted!.status, 200);
    // a's next requests get an object that registered nothing on a's connection: /count
    // registers onEnd only (echo's onData must not see its body), /forget nothing (500).
    const out = send(s, a, Buffer.concat([POST('/count', 'x\ny\n'), Buffer.from(GET('/forget'))]));
    const [counted, forgot] = parseAll(out);
    assert.is(counted!.status, 200);
    assert.is(counted!.body.toString(), '4 bytes, 2 lines\n');
    assert.is(forgot!.status, 500);
  });

  test.run();
}
