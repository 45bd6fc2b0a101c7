/**
 * `wasmloop run --metrics HOST:PORT` (bin/wasmloop.js over dist/): a host listener serving the
 * Prometheus text format at /metrics while traffic flows, per worker; not one of the guest's
 * listeners; `--stats` reads the same numbers; closed with the loop.
 */
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExposition, valueOf } from './helpers/exposition.ts';
import { GET, keepAliveGets, readResponse } from './helpers/net-http.ts';
import { killAllChildren, runCommand, startChild, type Child } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('metrics-cli');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

interface Served {
  child: Child;
  port: number;
  metricsUrl: string;
}

/** Starts hello with `--metrics 127.0.0.1:0` and `extra`; waits for both lines on stderr. */
async function serve(extra: string[]): Promise<Served> {
  const args = ['bin/wasmloop.js', 'run', 'wasm/hello.wasm', '--tcplisten', '127.0.0.1:0'];
  const child = startChild(process.execPath, [...args, '--metrics', '127.0.0.1:0', ...extra], {
    cwd: ROOT,
  });
  const lines = await waitFor(() => {
    const err = child.stderr();
    if (child.proc.exitCode !== null) throw new Error(`wasmloop exited: ${err}`);
    const metrics = /^wasmloop: metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(err);
    const serving = /^wasmloop: serving \S+ on 127\.0\.0\.1:(\d+)$/m.exec(err);
    return metrics && serving ? { metricsUrl: metrics[1]!, port: Number(serving[1]) } : undefined;
  }, 'the metrics and serving lines');
  return { child, ...lines };
}

type Metrics = ReturnType<typeof parseExposition>;

/** Scrapes until `cond` holds (a worker publishes its counters every 50 ms); fails after 5 s. */
async function scrapeUntil(url: string, cond: (m: Metrics) => boolean, what: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const m = await scrape(url);
    if (cond(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function scrape(url: string): Promise<Metrics> {
  const res = await fetch(url);
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

const total = (m: Metrics, name: string) =>
  valueOf(m, name, { worker: '0' }) + valueOf(m, name, { worker: '1' });

test('--workers 2: /metrics parses while traffic flows, per worker, counters grow', async () => {
  const { child, port, metricsUrl } = await serve(['--workers', '2']);
  assert.is.not(new URL(metricsUrl).port, String(port));
  let finished = false;
  const traffic = Promise.all(Array.from({ length: 8 }, () => keepAliveGets(port, 100))).then(
    () => (finished = true),
  );
  let last = 0;
  let during = 0;
  for (; !finished; during++) {
    const now = total(await scrape(metricsUrl), 'wasmloop_requests_total');
    assert.ok(now >= last, `requests went from ${last} to ${now}`);
    last = now;
  }
  await traffic;
  assert.ok(during > 1, `scraped ${during} times during the traffic`);
  const m = await scrapeUntil(
    metricsUrl,
    (s) => total(s, 'wasmloop_requests_total') === 800,
    '800 requests in the metrics',
  );
  assert.is(total(m, 'wasmloop_connections_accepted_total'), 8);
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
  const refused = await fetch(metricsUrl).then(
    () => false,
    () => true,
  );
  assert.ok(refused, 'the metrics listener closed with the loop');
});

test('404 off /metrics; the guest never sees the metrics port, nor serves /metrics', async () => {
  const { port, metricsUrl } = await serve([]);
  const base = metricsUrl.replace(/\/metrics$/, '');
  for (const path of ['/', '/metrics/', '/favicon.ico'])
    assert.is((await fetch(base + path)).status, 404, path);
  await scrape(metricsUrl);
  // The guest's port answers as the guest does (hello: "Hello, World!"), not with metrics.
  const c = await RawClient.connect(port);
  await c.write(GET('/metrics'));
  const res = await readResponse(c);
  assert.not.match(res.body ?? '', /wasmloop_/);
  c.sock.destroy();
  const m = await scrapeUntil(
    metricsUrl,
    (s) => valueOf(s, 'wasmloop_requests_total', { worker: '0' }) === 1,
    'the one request',
  );
  assert.is(valueOf(m, 'wasmloop_connections_accepted_total', { worker: '0' }), 1);
});

test('--stats prints the numbers /metrics serves', async () => {
  const { child, port, metricsUrl } = await serve(['--stats']);
  await keepAliveGets(port, 7);
  await waitFor(() => /total_req=7 /.test(child.stderr()) || undefined, 'a stats line', 5000);
  assert.is(valueOf(await scrape(metricsUrl), 'wasmloop_requests_total', { worker: '0' }), 7);
});

test('--metrics with a WASI command is a usage error (exit 64), not ignored', async () => {
  const r = await runCommand(
    process.execPath,
    ['bin/wasmloop.js', 'run', 'wasm/test/cmd-tool.wasm', '--metrics', '127.0.0.1:0'],
    { cwd: ROOT },
  );
  assert.is(r.code, 64);
  assert.match(r.stderr, /^wasmloop: --metrics needs a wasmloop guest; \S+ is a WASI command/);
});

test.run();
