/**
 * Reload over the simulated kernel (host/guest/reload.ts): the hello guest is replaced by the
 * demo guest, which answers GET / differently, while connections are idle, mid-request and
 * pipelined. Events must reach the instance that owns each connection.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { guestModule, simLoop, type SimLoop } from './helpers/sim.ts';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';
import { WasmloopError } from '../host/errors.ts';

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const HELLO = 'Hello, World!';
const DEMO = 'Hello from wasmloop!\n';

const reload = suite('reload (simulated kernel)');

/** Sends `request` and returns what came back once the loop is idle. */
function ask(s: SimLoop, peer: SimPeer, request = GET): string {
  peer.write(request);
  s.run();
  return peer.readText();
}

/** A hello loop with one idle keep-alive peer that was served once. */
async function helloWithIdlePeer(): Promise<{ s: SimLoop; idle: SimPeer }> {
  const s = await simLoop('hello');
  const idle = s.connect();
  s.run();
  assert.ok(ask(s, idle).endsWith(HELLO));
  return { s, idle };
}

/** A new peer in the middle of a request: hello answered its head at once (begun before the
 *  reload: the old guest) and takes its body, two of four bytes so far. */
function startRequest(s: SimLoop): SimPeer {
  const peer = s.connect();
  s.run();
  const early = ask(s, peer, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab');
  assert.ok(early.endsWith(HELLO));
  return peer;
}

reload('an idle connection moves at once and is served by the new guest', async () => {
  const { s, idle } = await helloWithIdlePeer();
  s.loop.reload(await guestModule('demo'), 30_000);
  assert.is(s.loop.retiring, 0, 'the old instance had nothing in flight: dropped at once');
  assert.ok(ask(s, idle).endsWith(DEMO));
  const fresh = s.connect();
  s.run();
  assert.ok(ask(s, fresh).endsWith(DEMO), 'new connections go to the new guest');
  assert.is(s.traps.length, 0);
});

reload('a request in flight finishes on the old guest, then its connection moves', async () => {
  const { s, idle } = await helloWithIdlePeer();
  const busy = startRequest(s);
  s.loop.reload(await guestModule('demo'), 30_000);
  assert.is(s.loop.retiring, 1);
  assert.ok(ask(s, idle).endsWith(DEMO), 'the idle one moved');
  assert.is(ask(s, busy, 'cd'), '', 'the old guest takes the rest of the body');
  assert.is(s.loop.retiring, 0, 'then it moved and the old instance was dropped');
  assert.ok(ask(s, busy).endsWith(DEMO));
  assert.is(s.loop.stats().open, 2);
});

reload('a request pipelined behind one in flight begins on the new guest', async () => {
  const { s, idle } = await helloWithIdlePeer();
  const busy = startRequest(s);
  s.loop.reload(await guestModule('demo'), 30_000);
  const both = ask(s, busy, `cd${GET}${GET}`);
  assert.is(both.split(DEMO).length, 3, 'the old guest stopped at the boundary (wl_retire)');
  assert.is(s.loop.retiring, 0);
  assert.ok(ask(s, busy).endsWith(DEMO));
  assert.ok(ask(s, idle).endsWith(DEMO));
});

reload('a guest without wl_retire (before ABI 1.2) goes on with what it has read', async () => {
  const s = await simLoop('test/hello-before-retire');
  const busy = startRequest(s);
  s.loop.reload(await guestModule('demo'), 30_000);
  const rest = ask(s, busy, `cd${GET}`);
  assert.ok(rest.endsWith(HELLO), 'the request behind the body: still the old guest');
  assert.is(s.loop.retiring, 0, 'then it moved');
  assert.ok(ask(s, busy).endsWith(DEMO));
});

reload('a request whose head has only partly arrived moves: the new guest answers it', async () => {
  const { s } = await helloWithIdlePeer();
  const partial = s.connect();
  s.run();
  assert.is(ask(s, partial, 'GET / HTTP/1.1\r\n'), '');
  s.loop.reload(await guestModule('demo'), 30_000);
  assert.is(s.loop.retiring, 0, 'nothing of it was consumed: it moved with its input');
  assert.ok(ask(s, partial, 'Host: a\r\n\r\n').endsWith(DEMO));
});

reload('after an early answer, the body tail and the next request in one read', async () => {
  const s = await simLoop('hello');
  const upload = s.connect();
  s.run();
  // hello answers once the head is in and skips the body as it comes
  assert.ok(
    ask(s, upload, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345').endsWith(HELLO),
  );
  s.loop.reload(await guestModule('demo'), 30_000);
  assert.is(s.loop.retiring, 1, 'mid-body: the old guest keeps it');
  assert.ok(ask(s, upload, `67890${GET}`).endsWith(DEMO), 'the next request: the new guest');
  assert.is(s.loop.retiring, 0);
  assert.is(s.traps.length, 0);
});

reload(
  'after drainMs the old instance is dropped: what it held is closed and counted',
  async () => {
    const s = await simLoop('hello');
    const busy = startRequest(s);
    const closedBefore = s.loop.stats().closed;
    s.loop.reload(await guestModule('demo'), 1000);
    s.advance(999);
    assert.is(s.loop.retiring, 1);
    s.advance(2);
    assert.is(s.loop.retiring, 0);
    assert.ok(busy.serverClosed, 'the stuck request was closed');
    assert.is(s.loop.stats().closed - closedBefore, 1);
  },
);

reload('a moved connection is counted closed once, not again by the old guest', async () => {
  const { s, idle } = await helloWithIdlePeer();
  const busy = startRequest(s); // keeps the old instance while its idle slot times out
  const before = s.loop.stats().closed;
  s.loop.reload(await guestModule('demo'), 30_000);
  s.advance(6_000); // past hello's keep-alive timeout: the old guest closes idle's slot
  s.advance(5_000); // and the new guest closes idle
  assert.ok(idle.serverClosed);
  assert.is(s.loop.retiring, 1);
  assert.is(s.loop.stats().closed - before, 1, 'retiring');
  assert.is(ask(s, busy, 'cd'), '');
  assert.is(s.loop.retiring, 0);
  assert.is(s.loop.stats().closed - before, 1, 'dropped');
  busy.close();
  s.run();
  assert.is(s.loop.stats().closed - before, 2);
  assert.is(s.loop.stats().open, 0);
});

reload(
  'an old guest whose wl_retire recurses to the stack limit: the reload still serves',
  async () => {
    const s = await simLoop('test/retire-recurses');
    const idle = s.connect();
    s.run();
    assert.ok(ask(s, idle).endsWith(HELLO));
    const busy = startRequest(s);
    s.loop.reload(await guestModule('demo'), 30_000);
    assert.is(s.traps.length, 1, 'the old instance trapped in wl_retire');
    assert.is(s.loop.retiring, 0, 'and was dropped');
    assert.ok(ask(s, idle).endsWith(DEMO), 'its idle connection was saved for the new guest');
    assert.is(ask(s, busy, 'cd'), '');
    assert.ok(busy.serverClosed, 'the request it was in the middle of ends, as after any trap');
    const fresh = s.connect();
    s.run();
    assert.ok(ask(s, fresh).endsWith(DEMO));
    assert.equal(s.loop.metrics().reloads, { ok: 1, failed: 0 });
  },
);

/** A module whose only export, wl_init, is `unreachable` (hand-assembled: the guest
 *  toolchain's modules cannot trap there). */
const TRAPS_IN_INIT = new WebAssembly.Module(
  new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f], // type 0: () -> i32
    ...[0x03, 0x02, 0x01, 0x00], // function 0 has type 0
    ...[0x07, 0x0b, 0x01, 0x07, ...Buffer.from('wl_init'), 0x00, 0x00], // export it
    ...[0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b], // its body: unreachable
  ]),
);

/** What `fn` threw. */
function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

reload('a module whose wl_init traps fails the reload; the old guest serves on', async () => {
  const { s, idle } = await helloWithIdlePeer();
  const err = thrown(() => s.loop.reload(TRAPS_IN_INIT, 1000));
  assert.instance(err, WasmloopError);
  assert.match((err as Error).message, /unreachable/);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_RELOAD');
  assert.ok(ask(s, idle).endsWith(HELLO));
  const fresh = s.connect();
  s.run();
  assert.ok(ask(s, fresh).endsWith(HELLO), 'the listeners are back on the old guest');
  assert.equal(s.loop.metrics().reloads, { ok: 0, failed: 1 });
});

reload.run();
