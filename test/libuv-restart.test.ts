/**
 * The libuv driver while a trapped guest waits for its restart: traps that no connection
 * caused back off (100 ms, 200 ms, 400 ms ... host/guest/restart-budget.ts), and meanwhile no
 * instance takes ready events. uv_poll is level-triggered, so if anything in the epoll set were
 * readable then, it would call back on every libuv iteration and spin a core for the whole
 * delay. Nothing is: teardown closes the connections, the listeners leave the set
 * (instance.ts `releaseListeners`) and the saved connections leave it until the next instance
 * adopts them. This test holds that, with a new client and a saved one both sending meanwhile,
 * and checks that the new instance then serves both.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';
import { closeAllLoops, startLoop, trapRecorder } from './helpers/net-loop.ts';
import { echoes, EVIL } from './helpers/evil-client.ts';

/** CPU time of this process (every thread) over `ms` of wall time, as a share of the wall. */
async function cpuShare(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}

test('no busy wake-ups while the guest waits for its restart, and the waiting client is served', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, {
    onTrap: rec.onTrap,
    maxRestarts: 10,
    workers: 0,
    driver: 'libuv',
  });
  // Four traps in a row that no connection caused: the fourth restart waits 400 ms.
  let saved: RawClient | undefined;
  for (let i = 0; i < 4; i++) {
    const c = (saved = await RawClient.connect(port));
    await c.write('TICKTRAP\n');
    assert.is((await c.read(6)).toString(), 'armed\n');
    await waitFor(() => rec.traps.length === i + 1, `trap ${i + 1}`);
    if (i < 3) await waitFor(() => loop.stats().restarts === i + 1, `restart ${i + 1}`);
  }
  assert.is(loop.stats().restarts, 3, 'the fourth restart is still waiting');
  // A client arrives while there is no instance: the listener stays readable until then.
  const waiting = await RawClient.connect(port);
  // And one that the trap saved (it was between requests) sends its next request meanwhile.
  await saved!.write('again\n');
  const share = await cpuShare(250);
  assert.ok(share < 0.5, `the process used ${(share * 100).toFixed(0)}% of a core while waiting`);
  assert.is(loop.stats().restarts, 3, 'measured inside the restart delay');
  await waitFor(() => loop.stats().restarts === 4, 'restart 4');
  await echoes(waiting, 'served by the new instance');
  assert.is((await saved!.read(6)).toString(), 'again\n');
});

test.after(async () => {
  closeAllClients();
  await closeAllLoops();
});

test.run();
