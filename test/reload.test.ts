/**
 * `loop.reload(module)` over loopback (host/guest/reload.ts, host/driver/workers.ts): the hello
 * guest replaced by the demo guest (which answers GET / differently) on the calling thread and
 * with workers; a reload that fails before anything moved (not a guest, a trap, a stack
 * overflow or the watchdog in wl_init: with workers, on the pool's trial thread) rejects with
 * ERR_WASMLOOP_RELOAD and changes nothing for the clients; the reloads are counted in the
 * metrics.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmloopError, type WasmLoop } from '../host/index.ts';
import { parseExposition } from './helpers/exposition.ts';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { GET, readResponse } from './helpers/net-http.ts';
import { closeAllClients, RawClient, sleep } from './helpers/net-tcp.ts';

const HELLO = 'Hello, World!';
const DEMO = 'Hello from wasmloop!\n';

const test = suite('reload');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

/** One GET / on `c`: the body. */
async function body(c: RawClient): Promise<string> {
  await c.write(GET());
  const res = await readResponse(c);
  assert.is(res.status, 200);
  return res.body ?? '';
}

/** What `p` rejected with. */
async function rejection(p: Promise<unknown>): Promise<WasmloopError> {
  const err = await p.then(
    () => assert.unreachable('resolved'),
    (e: unknown) => e,
  );
  assert.instance(err, WasmloopError);
  return err as WasmloopError;
}

/** The reloads counted, by result (worker threads publish every 50 ms). */
async function reloads(loop: WasmLoop): Promise<{ ok: number; failed: number }> {
  await sleep(120);
  const m = parseExposition(loop.metrics());
  const sum = (result: string) =>
    [...(m.get('wasmloop_reloads_total')?.samples ?? [])]
      .filter((s) => s.labels.result === result)
      .reduce((n, s) => n + s.value, 0);
  return { ok: sum('ok'), failed: sum('failed') };
}

for (const workers of [0, 2]) {
  test(`workers: ${workers}: keep-alive connections switch guest without a reset`, async () => {
    const { loop, port } = await startLoop('wasm/hello.wasm', { workers });
    const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
    for (const c of clients) assert.is(await body(c), HELLO);
    await loop.reload('wasm/demo.wasm');
    for (const c of clients) assert.is(await body(c), DEMO);
    assert.is(await body(await RawClient.connect(port)), DEMO);
    await loop.reload('wasm/hello.wasm');
    for (const c of clients) assert.is(await body(c), HELLO);
    for (const c of clients) assert.ok(!c.closed && c.error === null);
    assert.equal(await reloads(loop), { ok: 2 * Math.max(workers, 1), failed: 0 });
  });

  test(`workers: ${workers}: a reload that fails changes nothing for the clients`, async () => {
    const { traps, onTrap } = trapRecorder();
    const { loop, port } = await startLoop('wasm/hello.wasm', { workers, onTrap });
    const c = await RawClient.connect(port);
    assert.is(await body(c), HELLO);
    for (const bad of ['wasm/nothing-here.wasm', 'README.md', 'wasm/test/trap-init.wasm']) {
      const err = await rejection(loop.reload(bad));
      assert.is(err.code, 'ERR_WASMLOOP_RELOAD', bad);
      assert.is(await body(c), HELLO, bad);
    }
    assert.is(await body(await RawClient.connect(port)), HELLO);
    assert.equal(await reloads(loop), { ok: 0, failed: 3 });
    assert.equal(traps, []);
  });
}

test('workers: a new wl_init that runs away, overflows or traps fails on the trial thread; no request fails', async () => {
  const { traps, onTrap } = trapRecorder();
  const { loop, port } = await startLoop('wasm/hello.wasm', {
    workers: 2,
    watchdogMs: 300,
    onTrap,
  });
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
  let done = false;
  let served = 0;
  const load = Promise.all(
    clients.map(async (c) => {
      while (!done) {
        assert.is(await body(c), HELLO);
        served++;
      }
    }),
  );
  for (const bad of ['spin-init', 'recurse-init', 'trap-init']) {
    const err = await rejection(loop.reload(`wasm/test/${bad}.wasm`));
    assert.is(err.code, 'ERR_WASMLOOP_RELOAD', bad);
    if (bad === 'spin-init') assert.match(err.message, /watchdog/);
  }
  done = true;
  await load;
  assert.ok(served > 0);
  for (const c of clients) assert.ok(!c.closed && c.error === null, 'no connection lost');
  assert.is(await body(await RawClient.connect(port)), HELLO);
  assert.equal(await reloads(loop), { ok: 0, failed: 3 });
  assert.equal(traps, [], 'no worker was stopped');
});

test('reloads roll one after another; close() during a roll', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', { workers: 2 });
  const rolls = [loop.reload('wasm/demo.wasm'), loop.reload('wasm/hello.wasm')];
  await Promise.all(rolls);
  assert.is(await body(await RawClient.connect(port)), HELLO);
  const late = loop.reload('wasm/demo.wasm');
  await loop.close({ graceMs: 0 });
  await late.catch((e: WasmloopError) => assert.is(e.code, 'ERR_WASMLOOP_RELOAD'));
});

test.run();
