/**
 * The trap budget per peer (host/guest/peer-guard.ts, docs/SECURITY.md): the guard on its own (budget,
 * refill, block window, bounded table, peer keys), then demo.wasm over the simulated kernel,
 * where a peer that keeps sending GET /crash is refused at accept once its budget is spent.
 * The loopback version is test/trap-budget-loopback.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { PeerGuard, peerKey } from '../host/guest/peer-guard.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { GET, send } from './helpers/http-sim.ts';
import { parseAll } from './helpers/http-inspect.ts';
import { simLoop, type SimLoop } from './helpers/sim.ts';

const TRAP_500 =
  'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

function guard(budget: number, blockMs: number, capacity?: number) {
  const clock = { now: 0 };
  const g = new PeerGuard({
    budget,
    blockMs,
    kernel: new SimKernel(),
    now: () => clock.now,
    capacity,
  });
  return { g, clock };
}

const unit = suite('peer guard');

unit('a peer is blocked by the trap that spends its budget, for the block window only', () => {
  const { g, clock } = guard(3, 10_000);
  assert.not.ok(g.trap('10.0.0.1'));
  assert.not.ok(g.trap('10.0.0.1'));
  assert.not.ok(g.isBlocked('10.0.0.1'));
  assert.ok(g.trap('10.0.0.1'), 'the third trap in a minute blocks');
  assert.ok(g.isBlocked('10.0.0.1'));
  assert.ok(g.blocking);
  assert.not.ok(g.isBlocked('10.0.0.2'), 'another peer is not');
  assert.is(g.blocks, 1);
  clock.now = 9_999;
  assert.ok(g.isBlocked('10.0.0.1'));
  clock.now = 10_000;
  assert.not.ok(g.isBlocked('10.0.0.1'), 'the block ends');
  assert.not.ok(g.blocking, 'and accept stops checking');
});

unit('the budget refills at its rate per minute; slow traps never block', () => {
  const { g, clock } = guard(3, 60_000);
  for (let i = 0; i < 100; i++) {
    assert.not.ok(g.trap('10.0.0.1'), `trap ${i}, one every 20 s`);
    clock.now += 20_000;
  }
  assert.is(g.blocks, 0);
  assert.not.ok(g.trap('10.0.0.1'));
  assert.not.ok(g.trap('10.0.0.1'));
  assert.ok(g.trap('10.0.0.1'), 'three at once block');
});

unit('budget 0 switches the policy off', () => {
  const k = new SimKernel();
  const g = new PeerGuard({ budget: 0, blockMs: 60_000, kernel: k, now: () => 0 });
  const l = k.listen('127.0.0.1', 0, 8, false);
  k.connect((k.localAddress(l) as { port: number }).port);
  const fd = k.accept(l);
  for (let i = 0; i < 50; i++) g.trapOn(k.peerAddress(fd));
  assert.is(g.size, 0);
  assert.not.ok(g.refuses(fd));
});

unit('peer-block-ms 0: a peer past its budget is never blocked', () => {
  const { g } = guard(2, 0);
  for (let i = 0; i < 10; i++) assert.not.ok(g.trap('10.0.0.1'), `trap ${i}`);
  assert.not.ok(g.isBlocked('10.0.0.1'));
  assert.is(g.blocks, 0);
});

unit('the table is bounded, and other peers churning it do not lift a block', () => {
  const { g, clock } = guard(2, 60_000, 64);
  g.trap('10.0.0.1');
  g.trap('10.0.0.1');
  assert.ok(g.isBlocked('10.0.0.1'));
  for (let i = 0; i < 100_000; i++) {
    clock.now += 0.1;
    g.trap(`11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    assert.ok(g.size <= 64, `size ${g.size}`);
  }
  assert.is(g.size, 64);
  assert.ok(g.isBlocked('10.0.0.1'), 'the blocked peer was never the one evicted');
});

unit('peer keys: IPv4 address, IPv6 /64, IPv4-mapped as IPv4', () => {
  const v6 = (host: string) => peerKey({ host, port: 1, family: 6 });
  assert.is(peerKey({ host: '192.0.2.7', port: 1, family: 4 }), '192.0.2.7');
  assert.is(v6('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  assert.is(v6('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64', 'the same /64');
  assert.is(v6('2001:0db8:0001:0002::5'), '2001:db8:1:2::/64', 'leading zeros');
  assert.is(v6('2001:db8:1:3::1'), '2001:db8:1:3::/64', 'the next /64 is another peer');
  assert.is(v6('2001:db8::1'), '2001:db8:0:0::/64');
  assert.is(v6('::1'), '0:0:0:0::/64');
  assert.is(v6('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.is(v6('::ffff:192.0.2.7'), '192.0.2.7');
  assert.is(v6('1::2:3:4:5:1.2.3.4'), '1:0:2:3::/64', 'a dotted quad is two groups');
});

unit.run();

const sim = suite('trap budget (demo.wasm, simulated kernel)');
const ATTACKER = '127.0.0.2';

/** GET /crash from a new connection of `from`; returns the peer and what it got. */
async function crash(s: SimLoop, from = ATTACKER) {
  const peer = s.connect(from);
  const got = send(s, peer, GET('/crash')).toString('latin1');
  await new Promise((r) => setTimeout(r, 2)); // the restart is a 0 ms timer
  s.run();
  return { peer, got };
}

sim(
  'a peer past its budget is refused at accept; other peers are served; the block ends',
  async () => {
    const s = await simLoop('demo', {
      limits: { 'max-traps-per-peer-minute': 3, 'peer-block-ms': 30_000 },
    });
    for (let i = 0; i < 3; i++) assert.is((await crash(s)).got, TRAP_500, `crash ${i}`);
    assert.is(s.traps.length, 3);
    for (let i = 0; i < 20; i++) {
      const { peer, got } = await crash(s);
      assert.is(got, '', `attempt ${i}: no answer`);
      assert.ok(peer.serverClosed, `attempt ${i}: closed by the host`);
    }
    assert.is(s.traps.length, 3, 'the guest never saw the refused connections');
    const st = s.loop.stats();
    assert.is(st.peersBlocked, 1);
    assert.is(st.connectionsRefused, 20);
    assert.is(st.accepted - st.closed, st.open, 'the guest saw none of them');
    assert.is(
      parseAll(send(s, s.connect('127.0.0.1'), GET('/')))[0]!.status,
      200,
      'another peer is served',
    );
    s.advance(30_000);
    assert.is((await crash(s)).got, TRAP_500, 'after the block the peer is served again');
  },
);

sim(
  "at the trap that blocks, the peer's connections between requests are closed, others move on",
  async () => {
    const s = await simLoop('demo', { limits: { 'max-traps-per-peer-minute': 2 } });
    const mine = s.connect(ATTACKER);
    const theirs = s.connect('127.0.0.3');
    assert.is(parseAll(send(s, mine, GET('/')))[0]!.status, 200);
    assert.is(parseAll(send(s, theirs, GET('/')))[0]!.status, 200);
    await crash(s);
    assert.not.ok(mine.serverClosed, 'one trap: the idle connection moved to the new instance');
    await crash(s);
    assert.ok(mine.serverClosed, "the blocking trap: the attacker's idle connection is closed");
    assert.not.ok(theirs.serverClosed);
    assert.is(parseAll(send(s, theirs, GET('/')))[0]!.status, 200, 'the other peer is served on');
    assert.is(s.loop.stats().connectionsRefused, 1);
  },
);

sim('the default budget: 100 crashes from one peer cost at most 10 restarts', async () => {
  const s = await simLoop('demo');
  const answers = [];
  for (let i = 0; i < 100; i++) answers.push((await crash(s)).got);
  assert.is(answers.filter((a) => a === TRAP_500).length, 10);
  assert.is(s.loop.stats().restarts, 10);
  assert.is(s.loop.stats().connectionsRefused, 90);
});

sim.run();
