/**
 * A literal header pair's line is encoded once and then copied from the SDK's entries
 * (assembly/http/literal-lines.ts), and a response holds its first literal lines as entry
 * numbers (head-lines.ts): every response must carry exactly the lines the handler set, in
 * order, whether they were held as numbers, came after more than eight of them, are too long
 * to be kept, or follow a line from a heap string (test/guests/header-lines.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { send } from './helpers/http-sim.ts';

const LONG =
  'a value longer than the cache keeps a line for: one hundred and twenty bytes, name, colon and CRLF included';
const FEW = ['X-A: 1', 'X-B: two', 'Content-Type: text/plain'];
const MANY = [
  ...FEW,
  'X-C: 3',
  'X-D: 4',
  'X-E: 5',
  'X-F: 6',
  'X-G: 7',
  'X-H: 8',
  `X-Long: ${LONG}`,
];

/** The response's header lines other than Date, and its body. */
function lines(response: string): string[] {
  const [head = '', body] = response.split('\r\n\r\n');
  assert.is(body, 'ok');
  return head.split('\r\n').filter((l) => !l.startsWith('Date: '));
}

for (const flavour of FLAVOURS) {
  const test = suite(`http sdk header lines (${flavour})`);

  test('cached, evicted and uncacheable literal lines come out as set', async () => {
    const s = await simLoop('test/header-lines', { flavour });
    const peer = s.connect();
    for (const path of ['/few', '/few', '/many', '/few', '/many', '/many', '/few']) {
      const got = send(s, peer, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`).toString('latin1');
      const want = path === '/few' ? FEW : MANY;
      assert.equal(lines(got), ['HTTP/1.1 200 OK', ...want, 'Content-Length: 2'], path);
    }
  });

  test('a heap string line between literal ones keeps its place', async () => {
    const s = await simLoop('test/header-lines', { flavour });
    const peer = s.connect();
    for (let i = 0; i < 3; i++) {
      const got = send(s, peer, `GET /mixed HTTP/1.1\r\nHost: a\r\n\r\n`).toString('latin1');
      const want = ['X-A: 1', 'X-Method: GET', 'X-B: two', 'Content-Type: text/plain'];
      assert.equal(lines(got), ['HTTP/1.1 200 OK', ...want, 'Content-Length: 2']);
    }
  });

  test.run();
}
