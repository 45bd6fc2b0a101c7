/**
 * `loop.metrics()`: the Prometheus text format (checked by a strict parser,
 * test/helpers/exposition.ts), the same numbers as stats(), per worker with a `worker` label,
 * counters that only grow (also across a worker the watchdog replaced), traps by cause; and
 * host/metrics-server.ts serving exactly that text at /metrics, 404 elsewhere.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serveMetrics, METRICS_CONTENT_TYPE } from '../host/metrics-server.ts';
import type { WasmLoop } from '../host/index.ts';
import { parseExposition, valueOf, type Family } from './helpers/exposition.ts';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { keepAliveGets } from './helpers/net-http.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('metrics');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const scrape = (loop: WasmLoop) => parseExposition(loop.metrics());

/** Every counter sample of `now` is at least its value in `before`. */
function countersGrew(before: Map<string, Family>, now: Map<string, Family>): void {
  for (const f of now.values()) {
    if (f.type === 'gauge') continue;
    for (const s of f.samples) {
      const old = valueOf(before, s.name, s.labels);
      assert.ok(s.value >= old, `${s.name}${JSON.stringify(s.labels)}: ${old} -> ${s.value}`);
    }
  }
}

test('two workers: the text parses while traffic flows, per worker, counters grow', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', { workers: 2 });
  let last = scrape(loop);
  let finished = false;
  const traffic = Promise.all(Array.from({ length: 16 }, () => keepAliveGets(port, 50))).then(
    () => (finished = true),
  );
  let during = 0;
  for (; !finished; during++) {
    const now = scrape(loop);
    countersGrew(last, now);
    last = now;
    await sleep(2);
  }
  await traffic;
  assert.ok(during > 1, `scraped ${during} times while the traffic flowed`);
  const settled = await waitFor(() => {
    const m = scrape(loop);
    const total = [0, 1].map((w) => valueOf(m, 'wasmloop_requests_total', { worker: `${w}` }));
    return total[0]! + total[1]! === 800 ? m : undefined;
  }, 'every request in the metrics');
  for (const f of settled.values())
    for (const s of f.samples) assert.ok(s.labels.worker === '0' || s.labels.worker === '1');
  const stats = loop.stats(); // the same numbers, added up
  const sum = (name: string) =>
    valueOf(settled, name, { worker: '0' }) + valueOf(settled, name, { worker: '1' });
  assert.is(sum('wasmloop_connections_accepted_total'), stats.accepted);
  assert.is(sum('wasmloop_received_bytes_total'), stats.bytesIn);
  assert.is(sum('wasmloop_sent_bytes_total'), stats.bytesOut);
  assert.is(sum('wasmloop_requests_total'), stats.requests);
  assert.ok(sum('wasmloop_slice_duration_seconds_count') > 0, 'slices were timed');
  assert.is(settled.get('wasmloop_slice_duration_seconds')?.type, 'histogram');
});

test('workers: 0 has no worker label and reads the live counters', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', { workers: 0 });
  await keepAliveGets(port, 3);
  const m = scrape(loop);
  assert.is(valueOf(m, 'wasmloop_requests_total'), 3);
  assert.is(valueOf(m, 'wasmloop_connections_accepted_total'), loop.stats().accepted);
  for (const f of m.values()) for (const s of f.samples) assert.is(s.labels.worker, undefined);
});

test('traps by cause: wasm, abort, watchdog; counters survive the replaced worker', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop('wasm/test/evil.wasm', {
    workers: 1,
    watchdogMs: 300,
    onTrap: rec.onTrap,
  });
  for (const [word, n] of [
    ['TRAP', 1],
    ['ABORT', 2],
  ] as const) {
    const c = await RawClient.connect(port);
    await c.write(`${word}\n`);
    await c.until(() => c.ended || c.closed, `the ${word} connection to end`);
    await waitFor(() => loop.stats().restarts === n || undefined, `restart ${n}`);
  }
  const before = scrape(loop);
  const stuck = await RawClient.connect(port);
  await stuck.write('SPIN\n');
  await waitFor(() => rec.traps.length === 3 || undefined, 'the watchdog', 5000);
  const after = scrape(loop);
  const trap = (cause: string) => valueOf(after, 'wasmloop_traps_total', { cause });
  assert.equal([trap('wasm'), trap('abort'), trap('watchdog'), trap('host')], [1, 1, 1, 0]);
  assert.is(trap('worker_exit'), 0);
  assert.is(valueOf(after, 'wasmloop_restarts_total'), 3);
  countersGrew(before, after);
  // The stuck connection's accept may be lost: a worker killed inside a dispatch never
  // published it. The two before it are kept from the dead worker.
  assert.ok(valueOf(after, 'wasmloop_connections_accepted_total') >= 2);
});

test('the server: /metrics is what loop.metrics() returns; 404 elsewhere; HEAD; 405', async () => {
  const { loop, port } = await startLoop('wasm/hello.wasm', { workers: 0 });
  await keepAliveGets(port, 2);
  const server = await serveMetrics(loop, { host: '127.0.0.1', port: 0 });
  try {
    assert.is.not(server.address.port, port);
    const url = `http://127.0.0.1:${server.address.port}`;
    const res = await fetch(`${url}/metrics`);
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), METRICS_CONTENT_TYPE);
    assert.is(await res.text(), loop.metrics()); // workers: 0 and no traffic: nothing moves
    assert.is((await fetch(`${url}/`)).status, 404);
    assert.is((await fetch(`${url}/metricsx`)).status, 404);
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(await head.text(), '');
    assert.is((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
    assert.is(loop.stats().accepted, 1, 'the scrapes never reached the guest');
  } finally {
    await server.close();
  }
});

test('the parser refuses what the format does not allow', () => {
  const ok = '# TYPE a_total counter\na_total{x="1"} 1\n';
  parseExposition(ok);
  const bad = [
    'a 1', // no final line feed
    '# TYPE a counter\na 1\n# TYPE b counter\nb 1\na{x="2"} 2\n', // a split
    '# TYPE a counter\na 1\n# TYPE a counter\n', // TYPE after samples
    'a{x="\\t"} 1\n', // an escape the format lacks
    'a{__x="1"} 1\n', // a reserved label name
    'a 1,5\n', // not a float
    'a 1\na 2\n', // a series twice
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 0\n', // no +Inf
    '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 2\nh_sum 0\n', // _count unlike +Inf
  ];
  for (const text of bad) assert.throws(() => parseExposition(text), undefined, text);
});

test.run();
