/**
 * The sandbox, end to end over real sockets, with wasm/test/evil.wasm (test/guests/evil.ts):
 * a trap ends only that instance (whose trapping connection is closed) and a fresh one takes
 * over with the other connections, and the restart budget, which only traps no connection
 * caused spend, ends the loop.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { WasmloopError } from '../host/index.ts';
import { closeAllClients, RawClient, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { closeAllLoops, settledStats, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { echoes, EVIL } from './helpers/evil-client.ts';

const test = suite('sandbox: traps');

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

/** Resolves when the server has closed the connection, by FIN or reset. */
const closedByServer = (c: RawClient, what: string) =>
  c.until(() => c.ended || c.closed, `${what} to be closed`);

test('TRAP: the trapping connection closes, an idle one moves to a fresh instance and is served on', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap });
  const bystander = await RawClient.connect(port);
  await echoes(bystander);
  const c = await RawClient.connect(port);
  await echoes(c);
  await c.write('TRAP\n');
  await closedByServer(c, 'the trapping connection');
  await waitFor(() => loop.stats().restarts === 1, 'restarts === 1');
  assert.is(rec.traps.length, 1);
  assert.match(rec.traps[0]!.message, /unreachable/);
  assert.is(rec.traps[0]!.code, 'ERR_WASMLOOP_TRAP');
  assert.is(rec.traps[0]!.restarting, true);
  await echoes(bystander, 'the same connection, served by the new instance');
  const fresh = await RawClient.connect(port);
  await echoes(fresh, 'served by the new instance');
  const s = await settledStats(loop);
  assert.is(s.restarts, 1);
  assert.is(s.open, 2, 'the bystander and the new connection');
  assert.is(
    s.accepted,
    3,
    'counters of the trapped instance are kept; a moved connection is not accepted twice',
  );
  assert.is(s.closed, 1, 'the trapping connection, closed by the host');
});

test('ABORT: the trap message carries the guest abort message', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap });
  const c = await RawClient.connect(port);
  await c.write('ABORT\n');
  await closedByServer(c, 'the aborting connection');
  await waitFor(() => loop.stats().restarts === 1, 'restarts === 1');
  assert.is(rec.traps.length, 1);
  assert.match(rec.traps[0]!.message, 'evil guest gave up');
  assert.match(rec.traps[0]!.message, 'evil.ts');
  await echoes(await RawClient.connect(port));
});

test('restart budget: with maxRestarts 2 the third trap in a row that no connection caused ends the loop', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap, maxRestarts: 2 });
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(port);
    await c.write('TICKTRAP\n');
    assert.is((await c.read(6)).toString(), 'armed\n');
    if (i < 2) await waitFor(() => loop.stats().restarts === i + 1, `restart ${i + 1}`);
    await echoes(c, `moved to instance ${i + 1}`);
  }
  const err = await withTimeout(
    loop.done.then(
      () => null,
      (e: unknown) => e,
    ),
    5000,
    'loop.done to settle',
  );
  assert.instance(err, WasmloopError);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_RESTARTS');
  assert.equal(
    rec.traps.map((t) => t.restarting),
    [true, true, false],
  );
  assert.is(loop.stats().restarts, 2);
  // The loop gave up: its listener is closed.
  const refused = await RawClient.connect(port).then(
    () => 'connected',
    (e: NodeJS.ErrnoException) => e.code,
  );
  assert.is(refused, 'ECONNREFUSED');
});

test('traps that a connection caused do not count toward the budget: 5 in a row with maxRestarts 2', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap, maxRestarts: 2 });
  const bystander = await RawClient.connect(port);
  for (let i = 0; i < 5; i++) {
    const c = await RawClient.connect(port);
    await echoes(c, `instance ${i}`);
    await c.write('TRAP\n');
    await closedByServer(c, `trapping connection ${i}`);
    await waitFor(() => loop.stats().restarts === i + 1, `restart ${i + 1}`);
    await echoes(bystander, `bystander after trap ${i + 1}`);
  }
  assert.ok(rec.traps.every((t) => t.restarting));
  await echoes(await RawClient.connect(port), 'still serving');
});

test.run();
