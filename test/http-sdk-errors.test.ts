/**
 * The HTTP SDK over the simulated kernel (wasm/demo.wasm): handler errors that are not traps.
 * A handler that fails answers 500 and closes its connection (before its head went out; after,
 * the client sees a short body), a header value cannot split the response, Expect:
 * 100-continue is answered early, and collect() past its maximum is 413. Traps:
 * test/http-sdk-traps.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { GET, POST, send } from './helpers/http-sim.ts';
import { parseAll, undated } from './helpers/http-inspect.ts';

const MiB = 1 << 20;

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk errors (${flavour})`);

  test('handler errors answer 500 and close that connection; the others carry on', async () => {
    const s = await simLoop('demo', { flavour });
    const other = s.connect();
    assert.is(parseAll(send(s, other, GET('/')))[0]!.status, 200);
    for (const path of ['/fail', '/forget']) {
      const peer = s.connect();
      const out = send(s, peer, GET(path) + GET('/'));
      assert.is(
        undated(out),
        'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        path,
      );
      assert.ok(peer.serverShutWrite, `${path}: closed`);
    }
    assert.is(
      parseAll(send(s, other, GET('/')))[0]!.status,
      200,
      'the first connection still works',
    );
    assert.equal(s.traps, []);
  });

  test('a header value with CR LF from the request cannot split the response: 500', async () => {
    const s = await simLoop('demo', { flavour });
    const ok = s.connect();
    assert.is(
      undated(send(s, ok, GET('/go?to=/there'))),
      'HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 0\r\n\r\n',
    );
    const evil = s.connect();
    const out = undated(send(s, evil, GET('/go?to=/x%0D%0ASet-Cookie:%20a=b')));
    assert.is(
      out,
      'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
  });

  test('a handler that fails after its head went out aborts: the client sees a short body', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = undated(send(s, peer, GET('/half') + GET('/')));
    assert.is(out, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345');
    assert.ok(peer.serverShutWrite);
  });

  test('Expect: 100-continue answered before the body: no 100, and the connection closes', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const out = send(
      s,
      peer,
      'POST /fail HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    );
    assert.is(
      undated(out),
      'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    const peer2 = s.connect();
    const out2 = undated(
      send(
        s,
        peer2,
        'POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
      ),
    );
    assert.is(
      out2,
      'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nNot found\n',
    );
    assert.ok(peer2.serverShutWrite);
  });

  test('collect() past its maximum is 413', async () => {
    const s = await simLoop('demo', { flavour });
    const peer = s.connect();
    const ok = send(s, peer, POST('/count', 'a\nb\n'));
    assert.is(parseAll(ok)[0]!.body.toString(), '4 bytes, 2 lines\n');
    const out = send(s, peer, POST('/count', Buffer.alloc(MiB + 1, 0x61)));
    assert.is(
      undated(out),
      'HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
  });

  test.run();
}
