/**
 * Runaway guests in every mode: a guest call that never returns is stopped by the watchdog,
 * and whoever ends its thread closes every fd the host held for it, including connections
 * saved from a trap and waiting to be adopted (host/handoff.ts).
 */
import { readdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';

const test = suite('watchdog');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const countFds = () => readdirSync('/proc/self/fd').length;

test('worker mode: connections saved from a trap get FIN when wl_adopt spins and the worker is killed', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop('build/test/spin-adopt.wasm', { workers: 1, watchdogMs: 300, onTrap: rec.onTrap });
  const idle: RawClient[] = [];
  for (let i = 0; i < 4; i++) {
    const c = await RawClient.connect(port);
    await c.write(`idle ${i}\n`);
    assert.is((await c.read(7)).toString(), `idle ${i}\n`);
    idle.push(c);
  }
  const fdsBefore = countFds();
  const victim = await RawClient.connect(port);
  await victim.write('TRAP\n');
  await waitFor(() => rec.traps.find((t) => /watchdog/.test(t.message)), 'the watchdog to fire', 5000);
  // Every idle connection was handed over; the one being adopted spun. All must end.
  for (const c of [...idle, victim]) await c.until(() => c.ended || c.closed, 'FIN for a saved connection', 5000);
  closeAllClients();
  // No fd of the killed thread is left behind (the client sockets are gone too).
  await waitFor(() => countFds() <= fdsBefore - idle.length || undefined, `fds back to ${fdsBefore - idle.length} (now ${countFds()})`, 5000);
  assert.ok(loop.stats().restarts >= 1);
});

test.run();
