/**
 * The trap budget per peer over real loopback sockets (wasm/demo.wasm): an attacker at
 * 127.0.0.2 sends 100 GET /crash while clients at 127.0.0.1 download multi-MB responses. Once
 * its budget is spent the host refuses its connections at accept, so the traps stop and the
 * downloads complete. The same in worker mode, where the budget is per worker.
 */
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import type { WasmLoop } from '../host/index.ts';
import { closeAllLoops, startLoop, trapRecorder, waitStats } from './helpers/net-loop.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';

const test = suite('trap-budget-loopback');
const DEMO = 'wasm/demo.wasm';
const ATTACKER = '127.0.0.2';
const DOWNLOAD = 8 << 20;

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

interface Reply {
  /** The status line, '' when nothing came back. */
  status: string;
  /** Body bytes received, and whether that is the whole Content-Length. */
  body: number;
  complete: boolean;
}

/** One GET on a new connection from `from`, with Connection: close; never rejects. */
function get(port: number, path: string, from: string): Promise<Reply> {
  return new Promise((resolve) => {
    const sock = track(net.connect({ port, host: '127.0.0.1', localAddress: from }));
    let head = Buffer.alloc(0);
    let status = '';
    let length = -1;
    let body = 0;
    sock.on('connect', () =>
      sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`),
    );
    sock.on('data', (b: Buffer) => {
      if (length >= 0) {
        body += b.length;
        return;
      }
      head = Buffer.concat([head, b]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      status = text.split('\r\n')[0]!;
      length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      body = head.length - end - 4;
    });
    sock.on('error', () => {}); // a refused connection may be reset
    sock.on('close', () => resolve({ status, body, complete: length >= 0 && body === length }));
  });
}

/** Downloads DOWNLOAD bytes over and over until `stop()`, then once more; counts outcomes. */
async function downloader(port: number, stop: () => boolean) {
  const out = { complete: 0, cut: 0, lastComplete: false };
  for (;;) {
    const last = stop();
    const r = await get(port, `/bytes?n=${DOWNLOAD}`, '127.0.0.1');
    if (r.complete) out.complete++;
    else out.cut++;
    out.lastComplete = r.complete;
    if (last) return out;
  }
}

/** The attacker: `n` GET /crash, one connection each, one after the other. */
async function attack(port: number, n: number) {
  const out = { answered500: 0, refused: 0, other: 0 };
  for (let i = 0; i < n; i++) {
    const r = await get(port, '/crash', ATTACKER);
    if (r.status.startsWith('HTTP/1.1 500')) out.answered500++;
    else if (r.status === '') out.refused++;
    else out.other++;
  }
  return out;
}

/** Runs 3 downloaders alongside a 100-request attacker; returns both sides' results. */
async function siege(loop: WasmLoop, port: number) {
  let attackerDone = false;
  const downloads = [0, 1, 2].map(() => downloader(port, () => attackerDone));
  const attacker = await attack(port, 100);
  attackerDone = true;
  return { attacker, downloads: await Promise.all(downloads) };
}

test("100 crashing requests from one peer cannot keep other clients' downloads from completing", async () => {
  const { traps, onTrap } = trapRecorder();
  const { loop, port } = await startLoop(DEMO, {
    limits: { 'max-traps-per-peer-minute': 5 },
    onTrap,
  });
  const { attacker, downloads } = await withTimeout(siege(loop, port), 60_000, 'the siege');
  assert.is(attacker.answered500, 5, "the attacker's budget: 5 traps answered 500");
  assert.is(attacker.refused, 95, 'then every connection of the attacker is refused');
  // The loop runs on a worker thread: its counters and trap reports reach this thread late.
  const stats = await waitStats(
    loop,
    (s) => s.connectionsRefused >= attacker.refused && s.peersBlocked >= 1,
    'the counters in stats()',
    10_000,
  );
  assert.is(traps.length, 5, 'the guest trapped 5 times, no more');
  for (const [i, d] of downloads.entries()) {
    assert.ok(d.lastComplete, `downloader ${i}: the download after the attack completes`);
    assert.ok(d.cut <= 5, `downloader ${i}: at most one download cut per trap (${d.cut})`);
  }
  assert.is(stats.peersBlocked, 1);
  assert.is(stats.connectionsRefused, 95);
  const after = await get(port, `/bytes?n=${DOWNLOAD}`, '127.0.0.3');
  assert.ok(after.complete, 'another peer is served');
});

test('worker mode: the budget holds per worker, and the counters reach stats()', async () => {
  const { traps, onTrap } = trapRecorder();
  const { loop, port } = await startLoop(DEMO, {
    workers: 2,
    limits: { 'max-traps-per-peer-minute': 3 },
    onTrap,
  });
  const { attacker, downloads } = await withTimeout(siege(loop, port), 60_000, 'the siege');
  assert.ok(attacker.answered500 <= 6, `at most 3 traps per worker (${attacker.answered500})`);
  assert.is(attacker.answered500 + attacker.refused, 100);
  assert.ok(traps.length <= 6, `traps: ${traps.length}`);
  for (const [i, d] of downloads.entries()) assert.ok(d.lastComplete, `downloader ${i}`);
  // Workers publish their counters every 50 ms.
  await waitFor(
    () => loop.stats().connectionsRefused === attacker.refused,
    'the refusals in stats()',
    10_000,
  );
  const stats = loop.stats();
  assert.ok(
    stats.peersBlocked >= 1 && stats.peersBlocked <= 2,
    `peersBlocked ${stats.peersBlocked}`,
  );
});

test.run();
