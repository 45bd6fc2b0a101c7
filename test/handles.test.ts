/**
 * What a guest can name, over the simulated kernel with wasm/test/hoarder.wasm (a guest that
 * lets the test make single hostcalls): the `limit` hostcall answers only the limits it was
 * given.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXHAUSTED, HandleTable, Kind } from '../host/guest/handles.ts';
import type { Fd } from '../host/kernel/contract.ts';
import { hoarder, LISTENER, type HoarderExports } from './helpers/hoarder.ts';
import { simulate } from '../host/testing.ts';
import { simLoop, type SimLoop } from './helpers/sim.ts';
import { wat } from './helpers/wat.ts';

const test = suite('handles');

/** Writes `text` at the guest's scratch area; returns its length in bytes. */
function put(g: HoarderExports, text: string): number {
  const bytes = Buffer.from(text);
  new Uint8Array(g.memory.buffer, g.scratch(), bytes.length).set(bytes);
  return bytes.length;
}

test('limit: names inherited from Object.prototype are not limits (-1, not NaN)', async () => {
  const s = await simLoop('test/hoarder', { limits: { 'max-connections': 7 } });
  const g = hoarder(s);
  for (const name of [
    'constructor',
    'toString',
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    'idle-timeout-ms',
  ]) {
    assert.is(g.limit_of(put(g, name)), -1, name);
  }
  assert.is(g.limit_of(put(g, 'max-connections')), 7);
});

const EBADF = -8;

test('300,000 accept/close cycles: no handle is issued twice, and a stale one never reaches a later client', async () => {
  // max-connections 1: the table has room for very few indices, so each is reused over
  // 100,000 times (the old table, reusing one index with an 11-bit generation, wrapped at 2,048).
  const s = await simLoop('test/hoarder', { limits: { 'max-connections': 1 } });
  const g = hoarder(s);
  const len = put(g, 'X');
  s.connect();
  const stale = g.accept_once(LISTENER);
  assert.ok(stale > 0, `first accept: ${stale}`);
  assert.is(g.close_handle(stale), 0);
  const issued = new Set<number>([stale]);
  for (let i = 0; i < 300_000; i++) {
    const peer = s.connect();
    const h = g.accept_once(LISTENER);
    if (issued.has(h)) assert.unreachable(`cycle ${i}: handle ${h} issued again`);
    issued.add(h);
    const sent = g.send_text(stale, len);
    if (sent !== EBADF) assert.unreachable(`cycle ${i}: send on the stale handle returned ${sent}`);
    if (peer.read().length !== 0)
      assert.unreachable(`cycle ${i}: a later client got the stale handle's bytes`);
    assert.is(g.close_handle(h), 0);
  }
  assert.is(s.kernel.openFds(), 0);
});

test('a table with few generations retires its indices and then refuses: it never reuses a handle', () => {
  // max-connections 1 + a listener + the spare: indices 1..3; 2 generation bits: 4 each.
  const t = new HandleTable({ maxConnections: 1, listeners: 1, generationBits: 2 });
  const listener = t.add(100 as Fd, Kind.Listener);
  const issued = new Set<number>([listener]);
  let rc: number;
  while ((rc = t.prepareAccept()) === 0) {
    t.pendingFd = 200 + issued.size;
    const h = t.commitAccept();
    assert.not.ok(issued.has(h), `handle ${h} issued twice`);
    issued.add(h);
    t.remove(t.indexOf(h));
  }
  assert.is(rc, EXHAUSTED);
  assert.is(issued.size, 1 + 2 * 4, 'every generation of both connection indices, once');
  assert.is(t.prepareAccept(), EXHAUSTED, 'and it stays exhausted');
  assert.is(t.fd(listener, Kind.Listener), 100, 'the listener is untouched');
});

test('handle exhaustion replaces the instance: open connections move on, no client is lost', async () => {
  const s = await simLoop('echo', { generationBits: 2, limits: { 'max-connections': 2 } });
  const bystander = s.connect();
  s.run();
  const echoes = (peer: ReturnType<SimLoop['connect']>, text: string) => {
    peer.write(text);
    s.run();
    assert.is(peer.readText(), text);
  };
  for (let i = 0; i < 40; i++) {
    const c = s.connect();
    s.run();
    if (s.loop.instance === null) await new Promise((r) => setTimeout(r, 10)); // the restart timer
    s.run();
    echoes(c, `client ${i}`);
    c.close();
    s.run();
    echoes(bystander, `bystander ${i}`);
  }
  assert.ok(s.traps.length >= 1, 'the table ran out at least once');
  assert.ok(
    s.traps.every((t) => /handle space exhausted/.test(t.message)),
    s.traps.map((t) => t.message).join('; '),
  );
  assert.is(s.loop.stats().restarts, s.traps.length);
  assert.is(s.loop.closed, false);
});

/** A guest that accepts and closes every pending connection, catching whatever accept throws
 *  (wasm exception handling's catch_all catches a host's JS error); `caught()` counts them. */
const CATCHER = `(module
  (import "wasmloop" "listener" (func $listener (param i32) (result i32)))
  (import "wasmloop" "accept" (func $accept (param i32) (result i32)))
  (import "wasmloop" "watch" (func $watch (param i32 i32 i32 i32) (result i32)))
  (import "wasmloop" "close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $caught (mut i32) (i32.const 0))
  (func (export "wl_abi_version_1"))
  (func (export "wl_init") (result i32)
    (call $watch (call $listener (i32.const 0)) (i32.const 1) (i32.const 0) (i32.const 0)))
  (func (export "wl_events_ptr") (result i32) (i32.const 1024))
  (func (export "wl_events_cap") (result i32) (i32.const 16))
  (func (export "wl_stats_ptr") (result i32) (i32.const 2048))
  (func (export "wl_shutdown"))
  (func (export "caught") (result i32) (global.get $caught))
  (func (export "wl_dispatch") (param i32 f64) (result i32)
    (local $h i32)
    (block $done
      (loop $more
        (try (do (local.set $h (call $accept (call $listener (i32.const 0)))))
          (catch_all
            (global.set $caught (i32.add (global.get $caught) (i32.const 1)))
            (br $done)))
        (br_if $done (i32.lt_s (local.get $h) (i32.const 0)))
        (drop (call $close (local.get $h)))
        (br $more)))
    (i32.const -1)))`;

test('a guest that catches the exhaustion trap is replaced all the same', () => {
  const s = simulate(wat(CATCHER, ['All']), {
    generationBits: 2,
    limits: { 'max-connections': 2 },
  });
  const first = s.loop.instance!;
  for (let i = 0; i < 40 && s.traps.length === 0; i++) {
    s.connect();
    s.run();
  }
  const caught = (first.instance.exports.caught as () => number)();
  assert.ok(caught >= 1, 'the guest caught the throw');
  assert.is(s.traps.length, 1);
  assert.match(s.traps[0]!.message, /handle space exhausted/);
  assert.ok(s.loop.instance !== first, 'the instance was replaced');
});

test.run();
