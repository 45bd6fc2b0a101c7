/**
 * A response whose every part is fixed (status, literal header lines, a string literal for its
 * text) is kept whole and copied while its Date is current (assembly/http/whole-response.ts):
 * wasm/greet.wasm's `GET /`. What it sends must stay what the handler asked for, whatever came
 * before: the kept bytes never answer a HEAD, an HTTP/1.0 request, another route or a later
 * second.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { send } from './helpers/http-sim.ts';

const HELLO = 'Hello from wasmloop!\n';

/** A response split into its status line, its header lines without Date, Date, and body. */
function parts(raw: string): { lines: string[]; date: string; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).split('\r\n');
  const date = head.find((l) => l.startsWith('Date: ')) ?? '';
  return { lines: head.filter((l) => l !== date), date, body: raw.slice(at + 4) };
}

const OK = ['HTTP/1.1 200 OK', 'Content-Type: text/plain', `Content-Length: ${HELLO.length}`];

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk whole response (${flavour})`);

  test('the kept response answers only its own request shape, in its own second', async () => {
    const s = await simLoop('greet', { flavour });
    const peer = s.connect();
    const get = (head = 'GET / HTTP/1.1\r\nHost: a\r\n') =>
      parts(send(s, peer, `${head}\r\n`).toString('latin1'));
    const first = get();
    assert.equal(first.lines, OK);
    assert.is(first.body, HELLO);
    assert.equal(get(), first, 'the same request, the same second: the same bytes');
    const head = get('HEAD / HTTP/1.1\r\nHost: a\r\n');
    assert.equal([head.lines, head.body], [OK, '']);
    const missing = get('GET /x HTTP/1.1\r\nHost: a\r\n');
    assert.equal([missing.lines[0], missing.body], ['HTTP/1.1 404 Not Found', 'Not found\n']);
    assert.equal(get(), first, 'kept again after the others');
    s.advance(1500);
    const later = get();
    assert.equal([later.lines, later.body], [OK, HELLO]);
    assert.is.not(later.date, first.date, 'a later second has its own Date');
    const old = parts(send(s, s.connect(), 'GET / HTTP/1.0\r\n\r\n').toString('latin1'));
    assert.equal(old.lines, [...OK.slice(0, 2), OK[2]!, 'Connection: close']);
    assert.is(old.body, HELLO);
    assert.equal(get(), later, 'HTTP/1.1 again');
  });

  test.run();
}
