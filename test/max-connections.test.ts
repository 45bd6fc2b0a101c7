/**
 * max-connections is held by the host, not only by a well-behaved guest. wasm/test/hoarder.wasm
 * accepts 64 times on every listener event whatever the answer and never closes anything:
 * the host must refuse accept past the limit, stop reporting the listener meanwhile (no spin),
 * keep the clients past the limit waiting in the backlog, and take them once a connection
 * closes. The same in the single loop (the CLI's, and createLoop's) and in worker threads.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hoarder, LISTENER } from './helpers/hoarder.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';
import { socketsOnPort } from './helpers/proc-sockets.ts';
import { simLoop } from './helpers/sim.ts';

const test = suite('max-connections');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const HOARDER = 'wasm/test/hoarder.wasm';
const EAGAIN = -6;

test('sim: accept past the limit is -EAGAIN, the listener goes quiet, waiting clients are taken as connections close', async () => {
  const s = await simLoop('test/hoarder', { limits: { 'max-connections': 10 } });
  const peers = Array.from({ length: 30 }, () => s.connect());
  assert.ok(
    peers.every((p) => !p.refused),
    'every client is queued',
  );
  s.run();
  assert.is(s.kernel.openFds(), 10, 'the host holds 10 connections');
  const g = hoarder(s);
  assert.is(g.accept_once(LISTENER), EAGAIN, 'accept past the limit');
  const dispatches = s.loop.stats().requests;
  for (let i = 0; i < 50; i++) s.loop.tick();
  assert.is(s.loop.stats().requests, dispatches, 'no listener event while the limit is reached');
  for (let i = 0; i < 3; i++) assert.is(g.close_handle(g.held(i)), 0);
  s.run();
  assert.is(s.kernel.openFds(), 10, '3 closed, 3 waiting clients taken');
  assert.is(s.loop.stats().accepted, 13);
  assert.ok(
    peers.every((p) => !p.refused),
    'no client was refused',
  );
});

/** Connects `n` clients and waits until the server side holds what it is going to hold. */
async function flood(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await RawClient.connect(port);
  await sleep(300);
}

// libuv: createLoop's default; blocking: the CLI's single loop.
for (const driver of ['libuv', 'blocking'] as const)
  test(`single loop (${driver}): a guest that never closes holds at most max-connections, without spinning`, async () => {
    const { loop, port } = await startLoop(HOARDER, { driver, limits: { 'max-connections': 10 } });
    await flood(port, 40);
    await waitFor(() => loop.stats().accepted === 10, '10 accepted');
    assert.is(socketsOnPort(port).connected.length, 10, 'server sockets open');
    const dispatches = loop.stats().requests;
    await sleep(300);
    assert.ok(
      loop.stats().requests - dispatches <= 2,
      `${loop.stats().requests - dispatches} dispatches while at the limit`,
    );
    assert.is(loop.stats().accepted, 10);
  });

test('workers: each worker holds at most max-connections', async () => {
  for (const workers of [1, 2]) {
    const { loop, port } = await startLoop(HOARDER, { workers, limits: { 'max-connections': 10 } });
    await flood(port, 60);
    const held = socketsOnPort(port).connected.length;
    assert.ok(held <= 10 * workers, `${workers} worker(s): ${held} server sockets open`);
    assert.ok(held >= 10, `${workers} worker(s): ${held} server sockets open`);
    await waitFor(
      () => loop.stats().accepted === held || undefined,
      'the counters to be published',
    );
    await loop.close({ graceMs: 0 });
    closeAllClients();
  }
});

test.run();
