/**
 * The frame guest (wasm/frame.wasm) in pure wasm: frames echoed whole and in order, fed at
 * every split point and byte by byte; a bad magic or an oversized length ends only that
 * connection (a protocol error), also at every split point; the max-frame-bytes boundary;
 * frames far larger than the 64 KiB I/O buffers streamed through with backpressure; no
 * allocation per frame.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimPeer } from '../host/kernel/sim/kernel.ts';
import { concat } from './props/model.ts';
import { encodeFrame, FRAME_MAGIC, FRAME_MAX_DEFAULT, frameHeader } from './props/frame.ts';
import { collect, FLAVOURS, pattern, simLoop, type SimLoop } from './helpers/sim.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Three frames, an empty one among them: the stream every split test cuts. */
const STREAM = concat([
  encodeFrame(pattern(5, 1)),
  encodeFrame(new Uint8Array(0)),
  encodeFrame(pattern(19, 2)),
]);

/** Writes `parts` one per tick, then FIN; returns everything read once the server closed. */
function converse(s: SimLoop, parts: Uint8Array[]): { peer: SimPeer; got: Uint8Array } {
  const peer = s.connect();
  const got: Uint8Array[] = [];
  for (const part of parts) {
    peer.write(part);
    s.run();
    got.push(peer.read());
  }
  peer.shutdownWrite();
  for (let i = 0; i < 1000 && !peer.serverClosed; i++) {
    s.run();
    got.push(peer.read());
  }
  assert.ok(peer.serverClosed, 'the server closed after our FIN');
  return { peer, got: collect(got) };
}

/** `data` cut at `at` (1 .. length-1), or byte by byte when `at` is 0. */
function cut(data: Uint8Array, at: number): Uint8Array[] {
  if (at === 0) return Array.from(data, (b) => Uint8Array.of(b));
  return [data.subarray(0, at), data.subarray(at)];
}

for (const flavour of FLAVOURS) {
  const test = suite(`sim frame (${flavour})`);

  test('echoes each frame whole, in order, and counts frames as requests', async () => {
    const s = await simLoop('frame', { flavour });
    const { got, peer } = converse(s, [STREAM]);
    assert.is(hex(got), hex(STREAM));
    assert.not.ok(peer.wasReset);
    const st = s.loop.stats();
    assert.is(st.requests, 3);
    assert.is(st.protocolErrors, 0);
    assert.is(st.open, 0);
    assert.is(st.buffersInUse, 0);
  });

  test('a stream of frames cut at every split point, and byte by byte, comes back whole', async () => {
    const s = await simLoop('frame', { flavour });
    for (let at = 0; at < STREAM.length; at++) {
      const { got } = converse(s, cut(STREAM, at));
      assert.is(hex(got), hex(STREAM), at === 0 ? 'byte by byte' : `split at ${at}`);
    }
    const st = s.loop.stats();
    assert.is(st.requests, 3 * STREAM.length);
    assert.is(st.protocolErrors, 0);
    assert.is(st.buffersInUse, 0);
  });

  test('a bad magic ends only that connection, at every split point: the frames before it are echoed, then FIN', async () => {
    const good = encodeFrame(pattern(11, 3));
    for (let byte = 0; byte < 4; byte++) {
      const magic = FRAME_MAGIC.slice();
      magic[byte]! ^= 0x20; // "wLF1", "WlF1", ...: close, but wrong
      const stream = concat([good, frameHeader(3, magic), pattern(3, 4), good]);
      const s = await simLoop('frame', { flavour });
      for (let at = 0; at < stream.length; at++) {
        const { got, peer } = converse(s, cut(stream, at));
        assert.is(
          hex(got),
          hex(good),
          `magic byte ${byte} wrong, split at ${at}: only the frame before it is echoed`,
        );
        assert.not.ok(peer.wasReset, 'closed with FIN, not RST');
      }
      const st = s.loop.stats();
      assert.is(st.protocolErrors, stream.length, 'one protocol error per connection');
      assert.is(st.open, 0);
      assert.is(st.buffersInUse, 0);
    }
  });

  test('garbage is refused at its first wrong byte, without waiting for a whole header', async () => {
    const s = await simLoop('frame', { flavour });
    const peer = s.connect();
    peer.write('G');
    s.run();
    assert.ok(peer.serverShutWrite, 'FIN after one byte that cannot start a frame');
    assert.is(s.loop.stats().protocolErrors, 1);
    const ok = s.connect();
    ok.write(concat([FRAME_MAGIC.subarray(0, 3)]));
    s.run();
    assert.not.ok(ok.serverShutWrite, 'a correct prefix waits for more');
  });

  test('a bad frame on one connection does not disturb another mid-frame', async () => {
    const s = await simLoop('frame', { flavour });
    const good = s.connect();
    const bad = s.connect();
    const frame = encodeFrame(pattern(200_000, 5));
    good.write(frame.subarray(0, 70_000));
    s.run();
    bad.write(concat([encodeFrame(pattern(4, 6)), frameHeader(2, Uint8Array.of(0, 0, 0, 0))]));
    s.run();
    good.write(frame.subarray(70_000));
    const got: Uint8Array[] = [good.read()];
    for (let i = 0; i < 100; i++) {
      s.run();
      got.push(good.read());
    }
    assert.is(hex(bad.read()), hex(encodeFrame(pattern(4, 6))));
    assert.ok(bad.serverShutWrite);
    assert.ok(same(collect(got), frame), 'the other connection got its frame whole');
    assert.not.ok(good.serverShutWrite);
    assert.is(s.loop.stats().protocolErrors, 1);
    assert.is(s.loop.stats().open, 2, 'the bad one lingers for its peer, the good one stays');
  });

  test('max-frame-bytes: a frame of exactly the limit passes, one byte more is refused', async () => {
    for (const limit of [1000, 70_000]) {
      const s = await simLoop('frame', { flavour, limits: { 'max-frame-bytes': limit } });
      const exact = encodeFrame(pattern(limit, 7));
      assert.is(hex(converse(s, [exact]).got), hex(exact), `exactly ${limit}`);
      for (const at of [0, 4, 7]) {
        // the length arriving whole, then cut inside the length field
        const over = concat([exact, frameHeader(limit + 1), pattern(limit + 1, 8)]);
        const parts =
          at === 0
            ? [over]
            : [over.subarray(0, exact.length + at), over.subarray(exact.length + at)];
        assert.is(
          hex(converse(s, parts).got),
          hex(exact),
          `${limit + 1} refused (split ${at} into its header)`,
        );
      }
      assert.is(s.loop.stats().protocolErrors, 3);
    }
  });

  test('the default limit is 1 MiB: a 1 MiB frame streams through, 1 MiB + 1 and 0xffffffff are refused', async () => {
    const s = await simLoop('frame', { flavour });
    const max = encodeFrame(pattern(FRAME_MAX_DEFAULT, 9));
    const { got } = converse(s, [max]);
    assert.ok(same(got, max), '1 MiB frame echoed whole');
    for (const length of [FRAME_MAX_DEFAULT + 1, 0xffffffff]) {
      assert.is(converse(s, [frameHeader(length)]).got.length, 0, `length ${length}`);
    }
    const st = s.loop.stats();
    assert.is(st.protocolErrors, 2);
    assert.is(st.requests, 1);
  });

  test('frames larger than the 64 KiB buffers stream with backpressure: reading stops while the peer does not read', async () => {
    const s = await simLoop('frame', { flavour, window: 1000 });
    const frames = [300_000, 65_536 - 8, 65_536 - 7, 65_537, 0, 1].map((n, i) =>
      encodeFrame(pattern(n, 10 + i)),
    );
    const stream = concat(frames);
    const peer = s.connect();
    peer.write(stream);
    s.run();
    assert.is(peer.pending, 1000, 'the peer window is full');
    assert.ok(
      peer.unread > stream.length - 140_000,
      `the guest stopped reading (${peer.unread} unread)`,
    );
    assert.ok(s.loop.stats().buffersInUse <= 2, 'at most an input and an output buffer');
    const got: Uint8Array[] = [peer.read()];
    for (let i = 0; i < 100_000 && peer.received < stream.length; i++) {
      s.run();
      got.push(peer.read());
    }
    assert.ok(same(collect(got), stream), 'every frame whole and in order');
    assert.is(s.loop.stats().requests, frames.length);
  });

  test('a frame cut short by the peer: what arrived is passed through, then the connection closes', async () => {
    const s = await simLoop('frame', { flavour });
    const frame = encodeFrame(pattern(100_000, 11));
    const { got } = converse(s, [frame.subarray(0, 50_000)]);
    assert.is(hex(got), hex(frame.subarray(0, 50_000)));
    assert.is(s.loop.stats().requests, 0);
    assert.is(s.loop.stats().open, 0);
  });

  test('a reset mid-frame leaves no state behind: the next connection in that slot starts with a header', async () => {
    const s = await simLoop('frame', { flavour });
    const a = s.connect();
    a.write(encodeFrame(pattern(100_000, 12)).subarray(0, 30_000)); // 29,992 payload bytes owed
    s.run();
    a.reset();
    s.run();
    assert.is(s.loop.stats().open, 0);
    const { got } = converse(s, [STREAM]); // same slot 0, a fresh generation
    assert.is(hex(got), hex(STREAM));
  });

  test('no allocation per frame: memory does not grow over 20,000 frames', async () => {
    const s = await simLoop('frame', { flavour });
    const peers = Array.from({ length: 20 }, () => s.connect());
    const burst = concat(
      Array.from({ length: 10 }, (_, i) => encodeFrame(pattern(i * 100, i + 1))),
    );
    const round = () => {
      for (const p of peers) p.write(burst);
      s.run();
      for (const p of peers) assert.ok(same(p.read(), burst));
    };
    round();
    const before = s.memoryBytes();
    for (let i = 0; i < 99; i++) round();
    assert.is(s.memoryBytes(), before);
    assert.is(s.loop.stats().requests, 100 * 20 * 10);
  });

  test.run();
}
