/**
 * wasm/hello.wasm over real loopback sockets: keep-alive, pipelining, HEAD framing, curl and
 * node:http clients, connection close without RST, HTTP/1.0, refusals, and slow clients.
 */
import * as http from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { closeAllClients, RawClient, sleep, withTimeout } from './helpers/net-tcp.ts';
import { GET, parseResponses, readResponse, type HttpResponse } from './helpers/net-http.ts';
import { closeAllLoops, settledStats, startLoop, waitStats } from './helpers/net-loop.ts';
import { killAllChildren, runCommand } from './helpers/net-spawn.ts';

const test = suite('hello-loopback');

const HELLO = 'wasm/hello.wasm';
const BODY = 'Hello, World!';

test.after.each(async () => {
  closeAllClients();
  killAllChildren();
  await closeAllLoops();
});

function assertHello(res: HttpResponse, what = 'response'): void {
  assert.is(res.status, 200, `${what}: status`);
  assert.is(res.headers['content-length'], '13', `${what}: content-length`);
  assert.is(res.body, BODY, `${what}: body`);
}

/** Sends `request` on a new connection and expects one `status` response, then a clean EOF. */
async function refused(request: string, status: number): Promise<void> {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  await c.write(request);
  const data = await c.readToEnd();
  const [res] = parseResponses(data, [false]);
  assert.is(res!.status, status);
  assert.is(res!.headers['connection'], 'close');
  assert.is(res!.body, '');
  await c.waitClosed();
  assert.ok(c.ended, 'the server closed with FIN');
  assert.is(c.error, null, 'no reset');
  const s = await waitStats(loop, (st) => st.open === 0, 'open === 0');
  assert.is(s.protocolErrors, 1);
}

test('100 sequential requests on one keep-alive connection, all 200 Hello, World!', async () => {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  for (let i = 0; i < 100; i++) {
    await c.write(GET(`/req/${i}`));
    const res = await readResponse(c);
    assertHello(res, `request ${i}`);
    assert.is(
      res.headers['connection'],
      undefined,
      'HTTP/1.1 keep-alive needs no Connection header',
    );
    assert.not.ok(c.ended || c.closed, `the server closed the connection after request ${i}`);
  }
  assert.is(c.pending().length, 0, 'no extra bytes');
  const s = await settledStats(loop);
  assert.is(s.accepted, 1, 'all on one connection');
  assert.is(s.requests, 100);
  assert.is(s.open, 1);
});

test('16 pipelined requests in one write get 16 responses in order; HEAD in the middle has no body', async () => {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  const isHead = Array.from({ length: 16 }, (_, i) => i === 7);
  const reqs = isHead.map((head, i) =>
    i === 15
      ? GET(`/p/${i}`, 'Connection: close\r\n')
      : `${head ? 'HEAD' : 'GET'} /p/${i} HTTP/1.1\r\nHost: x\r\n\r\n`,
  );
  await c.write(reqs.join(''));
  const all = await c.readToEnd();
  const responses = parseResponses(all, isHead); // throws on a stray body or a missing response
  assert.is(responses.length, 16);
  responses.forEach((res, i) => {
    if (isHead[i]) {
      assert.is(res.status, 200);
      assert.is(res.headers['content-length'], '13', 'HEAD keeps the GET Content-Length');
      assert.is(res.body, '');
    } else {
      assertHello(res, `response ${i}`);
    }
    assert.is(
      res.headers['connection'],
      i === 15 ? 'close' : undefined,
      `response ${i}: Connection`,
    );
  });
  assert.is((await settledStats(loop)).requests, 16);
});

test('curl gets Hello, World!; curl -I gets 200 with Content-Length: 13', async () => {
  const { port } = await startLoop(HELLO);
  const get = await runCommand('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`]);
  assert.is(get.code, 0, `curl failed: ${get.stderr}`);
  assert.is(get.stdout, BODY);
  const head = await runCommand('curl', ['-sI', '--max-time', '5', `http://127.0.0.1:${port}/`]);
  assert.is(head.code, 0, `curl -I failed: ${head.stderr}`);
  assert.match(head.stdout, /^HTTP\/1\.1 200 /);
  assert.match(head.stdout, /\r\ncontent-length: 13\r\n/i);
});

function nodeGet(options: http.RequestOptions): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      http
        .get(options, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (s: string) => {
            body += s;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        })
        .on('error', reject);
    }),
    10000,
    `GET ${options.path}`,
  );
}

test('node http.get, and a keep-alive Agent (maxSockets 4) doing 200 requests', async () => {
  const { loop, port } = await startLoop(HELLO);
  const one = await nodeGet({ host: '127.0.0.1', port, path: '/', agent: false });
  assert.equal(one, { status: 200, body: BODY });
  await waitStats(loop, (s) => s.open === 0, 'the agent:false connection to close');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const all = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        nodeGet({ host: '127.0.0.1', port, path: `/k/${i}`, agent }),
      ),
    );
    all.forEach((r, i) => assert.equal(r, { status: 200, body: BODY }, `request ${i}`));
    const s = await settledStats(loop);
    assert.is(s.requests, 201);
    assert.ok(s.accepted <= 1 + 4, `keep-alive sockets were not reused: ${s.accepted} connections`);
  } finally {
    agent.destroy();
  }
});

test('Connection: close gets Connection: close, the full response, then EOF (no RST)', async () => {
  const { port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  await c.write(GET('/', 'Connection: close\r\n'));
  const [res] = parseResponses(await c.readToEnd(), [false]);
  assertHello(res!);
  assert.is(res!.headers['connection'], 'close');
  await c.waitClosed();
  assert.ok(c.ended, 'FIN, not a reset');
  assert.is(c.error, null);
});

test('Connection: close while the request body is still arriving: response, FIN, no RST (lingering close)', async () => {
  const { port } = await startLoop(HELLO);
  const c = await RawClient.connect(port, { allowHalfOpen: true });
  // The server answers before the body is in; closing with unread input would make the kernel
  // send RST, which can destroy the response in flight. The server must linger instead.
  await c.write(
    'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n' +
      'x'.repeat(20000),
  );
  await c.until(() => c.ended || c.closed, 'the server to shut down its side');
  assert.ok(c.ended && !c.closed, `expected FIN (error: ${c.error?.code})`);
  await c.write('y'.repeat(30000)); // more body after the FIN: discarded, not answered with RST
  const [res] = parseResponses(c.pending(), [false]);
  assertHello(res!);
  assert.is(res!.headers['connection'], 'close');
  c.sock.end();
  await c.waitClosed();
  assert.is(c.error, null, 'no reset');
});

test('requests pipelined behind a Connection: close request are not answered (RFC 9112 9.6)', async () => {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  await c.write(GET('/last', 'Connection: close\r\n') + GET('/must-not-be-answered'));
  const data = await c.readToEnd();
  // Only the first response, and it is the one that says the connection closes.
  const [res] = parseResponses(data, [false]);
  assertHello(res!);
  assert.is(res!.headers['connection'], 'close');
  assert.is((await settledStats(loop)).requests, 1);
});

test('HTTP/1.0 without keep-alive closes after the response; with keep-alive it stays open', async () => {
  const { port } = await startLoop(HELLO);
  const a = await RawClient.connect(port);
  await a.write('GET / HTTP/1.0\r\n\r\n');
  const [res] = parseResponses(await a.readToEnd(), [false]);
  assertHello(res!);
  assert.is(res!.headers['connection'], 'close');
  assert.ok(a.ended);

  const b = await RawClient.connect(port);
  for (let i = 0; i < 3; i++) {
    await b.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const r = await readResponse(b);
    assertHello(r, `keep-alive request ${i}`);
    assert.is(r.headers['connection'], 'keep-alive');
  }
  await sleep(50);
  assert.not.ok(b.ended || b.closed, 'the HTTP/1.0 keep-alive connection was closed');
});

test('a malformed request gets 400 and the connection is closed', () =>
  refused('GARBAGE\r\n\r\n', 400));

test('a bare LF in the head gets 400', () => refused('GET / HTTP/1.1\nHost: x\n\n', 400));

test('a head over 8 KiB gets 431', () =>
  refused(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}`, 431));

test('Transfer-Encoding: chunked gets 501', () =>
  refused(
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    501,
  ));

test('an HTTP/2.0 request line gets 505', () => refused('GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505));

test('a POST with a Content-Length body and a GET behind it on one connection: two 200s', async () => {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  // The body looks like a request: if it were not skipped it would produce a third response.
  await c.write('POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /' + GET('/after'));
  assertHello(await readResponse(c), 'POST');
  assertHello(await readResponse(c), 'GET');
  await c.write(GET('/third', 'Connection: close\r\n'));
  const rest = await c.readToEnd();
  assertHello(parseResponses(rest, [false])[0]!, 'third');
  const s = await settledStats(loop);
  assert.is(s.requests, 3);
  assert.is(s.protocolErrors, 0);
});

test('a request split byte by byte over many writes is answered once', async () => {
  const { loop, port } = await startLoop(HELLO);
  const c = await RawClient.connect(port);
  const req = GET('/slowly/one/byte/at/a/time', 'User-Agent: wasmloop-test\r\n');
  assert.ok(req.length >= 50);
  for (let i = 0; i < req.length; i++) {
    await c.write(req[i]!);
    await sleep(i % 3 === 0 ? 2 : 0);
  }
  assertHello(await readResponse(c));
  await sleep(50);
  assert.is(c.pending().length, 0, 'answered more than once');
  assert.is((await settledStats(loop)).requests, 1);
  assert.not.ok(c.ended || c.closed);
});

test.run();
