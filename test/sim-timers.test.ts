/**
 * Deadlines on a virtual clock: the idle timeout, HTTP's header-read timeout (slowloris) and
 * keep-alive timeout, and the max-connections limit, all set through host limits.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';

const REQUEST = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

for (const flavour of FLAVOURS) {
  const test = suite(`sim timers (${flavour})`);

  test('idle timeout: a silent connection is closed, an active one is not', async () => {
    const s = await simLoop('echo', { flavour, limits: { 'idle-timeout-ms': 1000 } });
    const idle = s.connect();
    const busy = s.connect();
    s.run();
    for (let t = 0; t < 5; t++) {
      s.advance(400);
      busy.write('x');
      s.run();
      assert.is(busy.readText(), 'x');
    }
    assert.ok(idle.serverClosed, 'idle for 2 s with a 1 s timeout');
    assert.not.ok(busy.serverClosed, 'traffic every 400 ms keeps it open');
    assert.is(s.loop.stats().timeouts, 1);
  });

  test('idle timeout 0 disables it', async () => {
    const s = await simLoop('echo', { flavour, limits: { 'idle-timeout-ms': 0 } });
    const peer = s.connect();
    s.run();
    s.advance(3_600_000);
    assert.not.ok(peer.serverClosed);
  });

  test('slowloris: a head that does not complete in time is closed; others are served', async () => {
    const s = await simLoop('hello', { flavour, limits: { 'header-timeout-ms': 500 } });
    const slow = s.connect();
    const normal = s.connect();
    s.run();
    slow.write('GET /');
    s.run();
    for (let i = 0; i < 3; i++) {
      s.advance(200);
      slow.write('a'); // trickling (valid) bytes does not extend the deadline
      normal.write(REQUEST);
      s.run();
      assert.match(normal.readText(), /200 OK/);
    }
    assert.ok(slow.serverClosed, 'closed 500 ms after its first byte');
    assert.is(slow.readText(), '', 'and never answered');
  });

  test('keep-alive timeout closes an idle connection between requests', async () => {
    const s = await simLoop('hello', {
      flavour,
      limits: { 'keepalive-timeout-ms': 300, 'header-timeout-ms': 10_000 },
    });
    const peer = s.connect();
    peer.write(REQUEST);
    s.run();
    assert.match(peer.readText(), /Hello, World!/);
    s.advance(200);
    peer.write(REQUEST); // a new request within the timeout is served
    s.run();
    assert.match(peer.readText(), /Hello, World!/);
    s.advance(200);
    assert.not.ok(peer.serverClosed);
    s.advance(200);
    assert.ok(peer.serverClosed, '400 ms after the last response');
  });

  test('max-connections: accept pauses at the limit and resumes when a slot frees', async () => {
    const s = await simLoop('echo', { flavour, limits: { 'max-connections': 2 } });
    const [a, b, c] = [s.connect(), s.connect(), s.connect()];
    s.run();
    assert.ok(a.accepted && b.accepted);
    assert.not.ok(c.accepted, 'the third waits in the backlog');
    assert.ok(s.run() === 0, 'no busy loop while full');
    a.close();
    s.run();
    assert.ok(c.accepted, 'accepted once a slot freed');
    c.write('third');
    s.run();
    assert.is(c.readText(), 'third');
  });

  test('a periodic tick (every 100 ms) runs on the virtual clock, with no traffic', async () => {
    const s = await simLoop('test/evil', { flavour });
    const peer = s.connect();
    s.run();
    for (let i = 0; i < 10; i++) s.advance(100);
    peer.write('TICKS\n');
    s.run();
    assert.is(peer.readText(), 'ticks 10\n');
  });

  test.run();
}
