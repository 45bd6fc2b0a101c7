/**
 * The SDK's fast path for a request without a body that the handler answers during its call
 * (assembly/http/cycle.ts startBodiless; response.ts endWhole/endKept): the response is written
 * straight into the output and the request finished at once. Each case here takes one of its
 * edges, where it must fall back to the general path or keep the general path's bytes: an
 * output too full for the response, HEAD, HTTP/1.0 keep-alive and close, a header or status
 * set after end(), answers from onDrain and onEnd pipelined with fast ones, and
 * `Expect: 100-continue` on a request without a body (test/guests/whole-edges.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop, type SimLoop } from './helpers/sim.ts';
import { send } from './helpers/http-sim.ts';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';

const GUEST = 'test/whole-edges';
const OUTPUT = 65536; // the connection's output buffer (assembly/pool.ts BUF_SIZE)
const get = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;

/** The answer to `GET /` in the loop's current second, from a fresh connection. */
function fixed(s: SimLoop): string {
  return send(s, s.connect(), get()).toString('latin1');
}

/** The fixed answer, and what a new connection to the same guest gets for `data`. */
async function exchange(
  flavour: (typeof FLAVOURS)[number],
  data: string,
): Promise<{ answer: string; out: string; peer: SimPeer }> {
  const s = await simLoop(GUEST, { flavour });
  const answer = fixed(s);
  const peer = s.connect();
  return { answer, out: send(s, peer, data).toString('latin1'), peer };
}

/** The fixed answer with the text `body` instead (Content-Length too). */
function withText(answer: string, body: string): string {
  return answer
    .replace('Content-Length: 6', `Content-Length: ${body.length}`)
    .replace('fixed\n', body);
}

/** `raw` with `line` added as the head's last line. */
function withLine(raw: string, line: string): string {
  const at = raw.indexOf('\r\n\r\n');
  return `${raw.slice(0, at)}\r\n${line}${raw.slice(at)}`;
}

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk fast path (${flavour})`);

  test('an output without room for the whole response: the general path, the same bytes', async () => {
    const s = await simLoop(GUEST, { flavour });
    const big = send(s, s.connect(), get('/big')).toString('latin1');
    const padHead = send(s, s.connect(), get('/pad/10000')).length - 10000;
    // Free bytes in the output when `GET /big` is read, after the pad's response in the same
    // call: around the response's length, and around what the whole response reserves (its
    // body, the lines and the head's fixed bound, response-head.ts HEAD_FIXED_MAX).
    for (const extra of [-1, 0, 1, 100, 180, 190, 200, 210, 220, 300]) {
      const free = big.length + extra;
      const peer = s.connect();
      const out = send(s, peer, get(`/pad/${OUTPUT - free - padHead}`) + get('/big'));
      assert.is(out.length, OUTPUT - free + big.length, `free ${free}: length`);
      assert.is(
        out.subarray(OUTPUT - free).toString('latin1'),
        big,
        `free ${free}: the same bytes`,
      );
    }
  });

  test('HEAD and HTTP/1.0 pipelined with HTTP/1.1 GETs', async () => {
    const s = await simLoop(GUEST, { flavour });
    const answer = fixed(s);
    const bodyless = answer.slice(0, answer.indexOf('\r\n\r\n') + 4);
    const peer = s.connect();
    const heads = [
      get(),
      'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      get(),
      'HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      get(),
      'GET / HTTP/1.0\r\n\r\n',
      get(), // after a close: never answered
    ];
    const out = send(s, peer, heads.join('')).toString('latin1');
    const keepAlive = withLine(answer, 'Connection: keep-alive');
    const expected = [
      answer,
      bodyless,
      keepAlive,
      answer,
      keepAlive.slice(0, keepAlive.indexOf('\r\n\r\n') + 4),
      answer,
      withLine(answer, 'Connection: close'),
    ];
    assert.is(out, expected.join(''));
    assert.ok(peer.serverShutWrite, 'HTTP/1.0 without keep-alive closes');
  });

  test('statuses in turn: each line as its code says', async () => {
    const codes = [200, 404, 201, 404, 599, 200, 418, 503, 404];
    const { out } = await exchange(flavour, codes.map((c) => get(`/s/${c}`)).join(''));
    const lines = out.match(/HTTP\/1\.1 [^\r]*/g);
    const reasons: Record<number, string> = { 200: ' OK', 201: ' Created', 404: ' Not Found' };
    reasons[503] = ' Service Unavailable';
    assert.equal(
      lines,
      codes.map((c) => `HTTP/1.1 ${c}${reasons[c] ?? ' '}`),
    );
  });

  test('a header and a status after end() are refused; the next response is untouched', async () => {
    const { answer, out, peer } = await exchange(flavour, get('/late') + get());
    assert.is(out, withText(answer, 'late\n') + answer);
    assert.not.ok(peer.serverShutWrite);
  });

  test('answers from onDrain and onEnd keep their place among fast ones', async () => {
    const { answer, out } = await exchange(flavour, get('/later') + get() + get('/end') + get());
    assert.is(out, withText(answer, 'later\n') + answer + withText(answer, 'at end\n') + answer);
  });

  test('Expect: 100-continue without a body: no 100, the connection stays open', async () => {
    const { answer, out, peer } = await exchange(
      flavour,
      get('/', 'Expect: 100-continue\r\n') + get(),
    );
    assert.is(out, answer + answer);
    assert.not.ok(peer.serverShutWrite);
  });

  test('Connection: close answers, then closes; what follows is not read', async () => {
    const { answer, out, peer } = await exchange(
      flavour,
      get('/', 'Connection: close\r\n') + get(),
    );
    assert.is(out, withLine(answer, 'Connection: close'));
    assert.ok(peer.serverShutWrite);
  });

  test.run();
}
