/**
 * Embedding in a Node program: the loop runs on Node's own event loop, so timers, a node:http
 * server and a node:net client in the same process keep working while the loop serves load;
 * an AbortSignal closes it; failures are WasmloopError subclasses with a code.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLoop, WasmloopError } from '../host/index.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, sleep } from './helpers/net-tcp.ts';

const test = suite('embedding');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const REQUEST = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const RESPONSE_LENGTH =
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!'.length;

/** Keeps `conns` connections busy with pipelined requests until `until` resolves. */
async function load(port: number, conns: number, stop: { done: boolean }): Promise<number> {
  let answered = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      const c = await RawClient.connect(port);
      while (!stop.done) {
        await c.write(REQUEST.repeat(8));
        await c.read(RESPONSE_LENGTH * 8);
        answered += 8;
      }
      c.sock.destroy();
    }),
  );
  return answered;
}

/** The body of GET / from a node:http server on 127.0.0.1:`port`, without an agent. */
function nodeGet(port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        let body = '';
        res
          .on('data', (d: Buffer) => {
            body += d;
          })
          .on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

test('timers, node:http and node:net keep working while the loop serves load', async () => {
  const { port } = await startLoop('wasm/hello.wasm');
  const nodeServer = http.createServer((_, res) => res.end('from node:http'));
  await new Promise<void>((r) => nodeServer.listen(0, '127.0.0.1', r));
  const nodePort = (nodeServer.address() as net.AddressInfo).port;
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  try {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const stop = { done: false };
    const served = load(port, 16, stop);
    const nodeAnswers: string[] = [];
    for (let i = 0; i < 20; i++) {
      nodeAnswers.push(await nodeGet(nodePort));
      const c = await RawClient.connect(echoPort);
      await c.write(`net ${i}`);
      assert.is((await c.read(`net ${i}`.length)).toString(), `net ${i}`);
      c.sock.destroy();
    }
    await sleep(300);
    stop.done = true;
    const answered = await served;
    clearInterval(interval);
    assert.ok(answered > 100, `the loop served load meanwhile (${answered} requests)`);
    assert.ok(nodeAnswers.every((b) => b === 'from node:http'));
    assert.ok(ticks >= 5, `a 10 ms interval kept firing under load (${ticks} ticks)`);
  } finally {
    nodeServer.close();
    echo.close();
  }
});

test('an AbortSignal closes the loop', async () => {
  const ac = new AbortController();
  const { loop, port } = await startLoop('wasm/echo.wasm', { signal: ac.signal });
  const c = await RawClient.connect(port);
  await c.write('hi');
  await c.read(2);
  ac.abort();
  await loop.done;
  await c.until(() => c.ended || c.closed, 'EOF after abort');
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    }).on('error', () => resolve(true));
  });
  assert.ok(refused, 'the listener is closed');
});

test('errors are WasmloopError with a code', async () => {
  try {
    await createLoop({ module: 'wasm/nope.wasm', listen: [{ port: 0 }] });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, WasmloopError);
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_MODULE_READ');
  }
  try {
    await createLoop({
      module: 'wasm/echo.wasm',
      listen: [{ port: 0 }],
      limits: { 'max-conection': 1 },
    });
    assert.unreachable();
  } catch (err) {
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_LIMIT');
  }
});

test.run();
