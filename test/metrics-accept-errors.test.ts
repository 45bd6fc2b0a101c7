/**
 * `wasmloop_accept_errors_total{errno}`: failed accepts counted by the host, by errno, read by
 * the strict exposition parser (test/helpers/exposition.ts). Over the simulated kernel with
 * injected failures (exact counts; EAGAIN, the end of every accept batch, is not one), and for
 * real: the CLI under `ulimit -n 64` runs out of descriptors and its /metrics says EMFILE.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { renderMetrics } from '../host/metrics.ts';
import { parseExposition, valueOf, type Family } from './helpers/exposition.ts';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';
import { simLoop } from './helpers/sim.ts';

const test = suite('metrics-accept-errors');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

const ACCEPT_ERRORS = 'wasmloop_accept_errors_total';

/** The errno label of every accept error sample, with its value. */
function byErrno(m: Map<string, Family>, worker?: string): Record<string, number> {
  const samples = m.get(ACCEPT_ERRORS)!.samples.filter((s) => s.labels.worker === worker);
  return Object.fromEntries(samples.map((s) => [s.labels.errno!, s.value]));
}

test('sim: failed accepts by errno, none for EAGAIN or a connection accepted', async () => {
  const s = await simLoop('echo');
  const ok = s.connect();
  s.run();
  assert.ok(ok.accepted);
  const before = byErrno(parseExposition(renderMetrics([{ metrics: s.loop.metrics() }])));
  assert.equal(before, {
    ECONNABORTED: 0,
    EMFILE: 0,
    ENFILE: 0,
    ENOBUFS: 0,
    ENOMEM: 0,
    EPERM: 0,
    EPROTO: 0,
  });
  s.kernel.failAccept(Errno.ECONNABORTED, 2); // echo goes on to the next accept
  const late = s.connect();
  s.run();
  assert.ok(late.accepted);
  s.kernel.failAccept(Errno.EMFILE, 1); // echo backs off
  s.connect();
  s.run();
  s.kernel.failAccept(Errno.EINVAL, 1); // not one of those always written
  s.advance(200);
  const m = parseExposition(renderMetrics([{ metrics: s.loop.metrics(), worker: 0 }]));
  assert.is(m.get(ACCEPT_ERRORS)?.type, 'counter');
  const after = byErrno(m, '0');
  assert.equal([after.ECONNABORTED, after.EMFILE, after.EINVAL, after.ENFILE], [2, 1, 1, 0]);
  assert.is(after.EAGAIN, undefined);
  assert.is(s.loop.stats().acceptErrors, 2, "the guest's own count: EMFILE and EINVAL");
});

/** Descriptors open in process `pid` now. */
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

test('the CLI out of descriptors (ulimit -n 64): /metrics counts EMFILE for its worker', async () => {
  const child = startChild(
    'bash',
    [
      '-c',
      'ulimit -n 64 && exec node bin/wasmloop.js run wasm/echo.wasm --tcplisten 127.0.0.1:0 --metrics 127.0.0.1:0',
    ],
    { cwd: ROOT },
  );
  const { port, url } = await waitFor(() => {
    const err = child.stderr();
    const metrics = /metrics on (http:\/\/\S+)$/m.exec(err);
    const serving = /serving \S+ on 127\.0\.0\.1:(\d+)$/m.exec(err);
    return metrics && serving ? { url: metrics[1]!, port: Number(serving[1]) } : undefined;
  }, 'the metrics and serving lines');
  const pid = child.proc.pid!;
  // More connections than descriptors: once the guest has taken the last one, its next accept
  // (more are waiting) fails with EMFILE.
  const clients = await Promise.all(Array.from({ length: 100 }, () => RawClient.connect(port)));
  await waitFor(() => openFds(pid) >= 64, 'the server to run out of descriptors');
  for (const c of clients) c.sock.destroy();
  const m = await waitFor(scrapeWithEmfile(url), 'EMFILE in the metrics', 5000);
  assert.ok(valueOf(m, ACCEPT_ERRORS, { worker: '0', errno: 'EMFILE' }) >= 1);
  assert.is(valueOf(m, ACCEPT_ERRORS, { worker: '0', errno: 'ENFILE' }), 0);
});

/** A poll step: the metrics once they show an EMFILE; a scrape refused while the process is
 *  still out of descriptors is retried. */
function scrapeWithEmfile(url: string): () => Map<string, Family> | undefined {
  let pending: Promise<void> | null = null;
  let found: Map<string, Family> | undefined;
  return () => {
    pending ??= fetch(url)
      .then((r) => r.text())
      .then((text) => {
        const m = parseExposition(text);
        if (byErrno(m, '0').EMFILE! > 0) found = m;
      })
      .catch(() => sleep(20))
      .finally(() => (pending = null));
    return found;
  };
}

test.run();
