/**
 * Event dispatch edge cases in pure wasm: stale tokens, events for a connection closed earlier
 * in the same batch, accept back-off on EMFILE, graceful drain, no allocation per request,
 * and guest traps.
 *
 * Token values are the guest's (assembly/token.ts): the first connection takes slot 0 with
 * generation 1, so its token is (lo 0, hi 1); listener 0's token is (0, 0).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { EPOLLERR, EPOLLIN } from '../host/kernel/contract.ts';
import { FLAVOURS, simLoop } from './helpers/sim.ts';

for (const flavour of FLAVOURS) {
  const test = suite(`sim connections (${flavour})`);

  test('a stale token (closed slot, older generation) is ignored', async () => {
    const s = await simLoop('echo', { flavour });
    const a = s.connect();
    s.run();
    a.close();
    s.run(); // the guest sees EOF and closes slot 0; the slot's generation moves to 2
    const b = s.connect();
    s.run(); // b takes slot 0, generation 2
    s.kernel.injectEvent(s.loop.epfd, EPOLLERR, 0, 1); // an error for a's old token
    s.run();
    b.write('still here');
    s.run();
    assert.is(b.readText(), 'still here', 'the stale EPOLLERR did not close the new occupant');
    assert.is(s.loop.stats().open, 1);
  });

  test('events for a connection closed earlier in the same batch are dropped', async () => {
    const s = await simLoop('echo', { flavour });
    const a = s.connect();
    s.run();
    const b = s.connect(); // pending in the accept queue
    // One batch: a's error closes slot 0; the listener event accepts b into slot 0 (gen 2);
    // then a second error for a's token must not reach b.
    s.kernel.injectEvent(s.loop.epfd, EPOLLERR, 0, 1);
    s.kernel.injectEvent(s.loop.epfd, EPOLLIN, 0, 0);
    s.kernel.injectEvent(s.loop.epfd, EPOLLERR, 0, 1);
    s.run();
    assert.ok(a.serverClosed);
    b.write('ping');
    s.run();
    assert.is(b.readText(), 'ping');
    assert.is(s.loop.stats().open, 1);
  });

  test('EMFILE on accept pauses the listener for a back-off instead of spinning', async () => {
    const s = await simLoop('echo', { flavour });
    s.kernel.failAccept(Errno.EMFILE, 1);
    const peer = s.connect();
    const busyTicks = s.run();
    assert.ok(busyTicks <= 2, `no busy loop on EMFILE (${busyTicks} ticks with events)`);
    assert.is(s.loop.stats().acceptErrors, 1);
    assert.not.ok(peer.accepted, 'not accepted during the back-off');
    s.advance(50);
    assert.not.ok(peer.accepted, 'still backing off after 50 ms');
    s.advance(60);
    assert.ok(peer.accepted, 'accepted once the back-off passed');
    peer.write('late');
    s.run();
    assert.is(peer.readText(), 'late');
  });

  test('drain: idle connections get FIN, then the loop closes once the peers close', async () => {
    const s = await simLoop('echo', { flavour });
    const peers = [s.connect(), s.connect()];
    s.run();
    peers[0]!.write('bye');
    s.run();
    s.loop.drain();
    s.run();
    for (const p of peers) assert.ok(p.serverShutWrite, 'the guest shut its write side');
    assert.is(peers[0]!.readText(), 'bye');
    assert.not.ok(s.loop.closed, 'waits for the peers');
    for (const p of peers) p.close();
    s.run();
    assert.ok(s.loop.closed, 'closed once every connection ended');
  });

  test('a lingering connection that never closes is closed after its deadline', async () => {
    const s = await simLoop('echo', { flavour });
    const peer = s.connect();
    s.run();
    s.loop.drain();
    s.run();
    assert.ok(peer.serverShutWrite);
    assert.not.ok(peer.serverClosed);
    s.advance(2100);
    assert.ok(peer.serverClosed);
    assert.ok(s.loop.closed);
  });

  test('steady state allocates nothing: memory does not grow over 20,000 round trips', async () => {
    const s = await simLoop('echo', { flavour });
    const peers = Array.from({ length: 50 }, () => s.connect());
    s.run();
    const roundTrip = () => {
      for (const p of peers) p.write('0123456789abcdef');
      s.run();
      for (const p of peers) assert.is(p.readText(), '0123456789abcdef');
    };
    roundTrip();
    const before = s.memoryBytes();
    for (let i = 0; i < 400; i++) roundTrip();
    assert.is(s.memoryBytes(), before);
    assert.is(s.loop.stats().requests, 401 * 50);
  });

  test('a trap closes the connection that caused it; an idle one moves to the fresh guest', async () => {
    const s = await simLoop('test/evil', { flavour });
    const bystander = s.connect();
    const victim = s.connect();
    s.run();
    victim.write('TRAP\n');
    s.run();
    assert.is(s.traps.length, 1);
    assert.match(s.traps[0]!.message, /unreachable/);
    assert.ok(victim.serverShutWrite, 'the trapping connection is ended');
    assert.not.ok(bystander.serverClosed, 'the idle one is not');
    await new Promise((r) => setTimeout(r, 10)); // the restart is immediate (a 0 ms timer)
    s.run();
    bystander.write('still here');
    const fresh = s.connect();
    s.run();
    fresh.write('hello again');
    s.run();
    assert.is(bystander.readText(), 'still here');
    assert.is(fresh.readText(), 'hello again');
    assert.is(s.loop.stats().restarts, 1);
    victim.close();
    s.run();
    assert.ok(victim.serverClosed, 'and closed at its EOF');
    assert.is(s.kernel.openFds(), 2);
  });

  test('a guest that lies after a trap cannot make the host misuse a descriptor', async () => {
    const s = await simLoop('test/liar', { flavour });
    const [a, b, c] = [s.connect(), s.connect(), s.connect()];
    s.run();
    a.write('a');
    s.run();
    assert.is(a.readText(), 'a');
    c.write('TRAP\n');
    s.run();
    assert.is(s.traps.length, 1);
    await new Promise((r) => setTimeout(r, 10));
    s.run();
    assert.is(s.loop.stats().restarts, 1);
    // A was named (falsely) as the culprit: FIN, and no reply (the guest's is out of bounds);
    // the new instance refused it, so the host closed it. B and C were closed with the instance.
    for (const [name, p] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const)
      assert.ok(p.serverClosed, `${name} closed`);
    assert.is(a.readText(), '');
    assert.is(s.kernel.openFds(), 0, 'no descriptor left behind');
    const fresh = s.connect();
    s.run();
    fresh.write('the listener still works');
    s.run();
    assert.is(fresh.readText(), 'the listener still works');
  });

  test.run();
}
