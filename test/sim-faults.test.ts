/**
 * The simulated kernel's own machinery (no wasm): injected faults, descriptor limits, seeded
 * determinism, its PRNG and its cost with many sockets. The scripted peers and the sim's
 * deviations: test/sim-kernel.test.ts; the contract shared with the native kernel:
 * test/kernel-contract.ts. Run: npx tsx node_modules/uvu/bin.js test sim-faults
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { EPOLL_CTL_ADD, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../host/kernel/contract.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { Random } from '../host/kernel/sim/random.ts';
import {
  acceptOne,
  bytes,
  LISTEN_TOKEN,
  mem,
  recvText,
  setup,
  wait,
} from './helpers/sim-kernel.ts';

test('injectEvent: raw records first, counted against maxEvents', () => {
  const { k, ep, port } = setup();
  k.connect(port);
  k.injectEvent(ep, EPOLLIN | EPOLLHUP, 42, 7);
  k.injectEvent(ep, EPOLLOUT, 43, 0);
  assert.equal(wait(k, ep, 1), [{ events: EPOLLIN | EPOLLHUP, lo: 42, hi: 7 }]);
  assert.equal(wait(k, ep), [
    { events: EPOLLOUT, lo: 43, hi: 0 },
    { events: EPOLLIN, lo: LISTEN_TOKEN, hi: 0 },
  ]);
  assert.throws(() => k.injectEvent(99, EPOLLIN, 0, 0));
});

test('failAccept: errors without consuming the connection', () => {
  const { k, lfd, ep, port } = setup();
  k.connect(port);
  k.failAccept(Errno.EMFILE, 2);
  assert.is(k.accept(lfd), -Errno.EMFILE);
  assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: LISTEN_TOKEN, hi: 0 }], 'still pending');
  assert.is(k.accept(lfd), -Errno.EMFILE);
  assert.ok(k.accept(lfd) >= 3);
  assert.is(k.accept(lfd), -Errno.EAGAIN);
});

test('maxFds: EMFILE from accept, the connection stays queued', () => {
  const { k, lfd, port } = setup({ maxFds: 3 });
  k.connect(port);
  k.connect(port);
  assert.ok(k.accept(lfd) >= 3);
  assert.is(k.accept(lfd), -Errno.EMFILE);
  assert.is(k.epollCreate(), -Errno.EMFILE);
  assert.is(k.openDescriptors(), 3);
});

test('closing a listener resets its queued peers', () => {
  const { k, lfd, port } = setup();
  const peer = k.connect(port);
  assert.is(k.close(lfd), 0);
  assert.ok(peer.wasReset);
  assert.ok(k.connect(port).refused);
});

test('fault: maxRecv caps every recv, per peer or globally', () => {
  const { k, lfd, ep, port } = setup({ faults: { maxRecv: 3 } });
  const a = k.connect(port);
  const b = k.connect(port);
  const fa = acceptOne(k, lfd, ep);
  const fb = acceptOne(k, lfd, ep);
  b.maxRecv = 1;
  a.write('abcdefg');
  b.write('xyz');
  assert.equal([recvText(k, fa), recvText(k, fa), recvText(k, fa)], ['abc', 'def', 'g']);
  assert.equal([recvText(k, fb), recvText(k, fb)], ['x', 'y']);
});

test('fault: spurious EAGAIN keeps the socket ready (LT and ET)', () => {
  for (const mode of [0, EPOLLET]) {
    const { k, lfd, ep, port } = setup({ seed: 5, faults: { eagain: 1 } });
    const peer = k.connect(port);
    const fd = acceptOne(k, lfd, ep, EPOLLIN | mode);
    peer.write('data');
    assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: fd, hi: 0 }]);
    assert.is(recvText(k, fd), -Errno.EAGAIN);
    assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: fd, hi: 0 }], `mode ${mode}`);
    k.faults.eagain = 0;
    assert.is(recvText(k, fd), 'data');
  }
});

test('fault: spurious readiness, then recv/accept say EAGAIN', () => {
  const { k, lfd, ep, port } = setup({ faults: { spurious: 1 } });
  k.connect(port);
  const fd = acceptOne(k, lfd, ep);
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) for (const e of wait(k, ep)) seen.add(e.lo);
  assert.ok(seen.has(fd) && seen.has(LISTEN_TOKEN));
  assert.is(k.recv(fd, mem, 0, 10), -Errno.EAGAIN);
  assert.is(k.accept(lfd), -Errno.EAGAIN);
});

test('fault: short writes and reads stay within bounds and keep the stream intact', () => {
  const { k, lfd, ep, port } = setup({ seed: 9, faults: { shortRead: 0.7, shortWrite: 0.7 } });
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep);
  const text = 'the quick brown fox jumps over the lazy dog';
  peer.write(text);
  let got = '';
  for (let r = recvText(k, fd, 8); typeof r === 'string'; r = recvText(k, fd, 8)) got += r;
  assert.is(got, text);
  let sent = 0;
  bytes.set(new TextEncoder().encode(text), 0);
  while (sent < text.length) {
    const n = k.send(fd, mem, sent, text.length - sent);
    assert.ok(n >= 1 && n <= text.length - sent);
    sent += n;
  }
  assert.is(peer.readText(), text);
});

/** A scripted echo server run under every fault; returns a transcript of all results. */
function transcript(seed: number): string {
  const faults = {
    shortRead: 0.3,
    shortWrite: 0.3,
    eagain: 0.2,
    spurious: 0.2,
    reorder: 0.5,
    maxRecv: 7,
  };
  const { k, lfd, ep, port } = setup({ seed, faults });
  const log: unknown[] = [k.randomSeed()];
  const peers = [0, 1, 2, 3, 4].map((i) => k.connect(port));
  peers.forEach((p, i) => p.write(`message number ${i} `.repeat(i + 1)));
  for (let round = 0; round < 60; round++) {
    for (const ev of wait(k, ep, 4)) {
      log.push(ev);
      if (ev.lo === LISTEN_TOKEN) {
        const fd = k.accept(lfd);
        log.push(fd >= 0 ? k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, fd, 0) : fd);
        continue;
      }
      const n = k.recv(ev.lo, mem, 0, 64);
      log.push(n, n > 0 ? k.send(ev.lo, mem, 0, n) : 0);
    }
    if (round === 30) peers[2]!.reset();
    log.push(peers.map((p) => p.readText()));
  }
  return JSON.stringify(log);
}

test('determinism: same seed, same transcript; different seeds differ', () => {
  const a = transcript(1234);
  assert.is(transcript(1234), a);
  assert.is.not(transcript(4321), a);
  const echoed = (JSON.parse(a) as unknown[]).filter(Array.isArray).flat().join('');
  assert.ok(echoed.length > 100, `the echo actually ran: ${echoed.length} bytes`);
});

test('Random: reproducible, in range', () => {
  const a = new Random(7);
  const b = new Random(7);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.equal(
    Array.from({ length: 100 }, () => b.next()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const c = new Random(8);
  for (let i = 0; i < 1000; i++) {
    const v = c.int(3, 5);
    assert.ok(v >= 3 && v <= 5 && Number.isInteger(v));
  }
  assert.is.not(new Random(8).next(), new Random(7).next());
});

test('many sockets: a wait costs what it reports', () => {
  const { k, port } = setup();
  const peers = Array.from({ length: 5000 }, () => k.connect(port));
  assert.is(peers.filter((p) => p.refused).length, 5000 - 8, 'backlog 8');
  const k2 = new SimKernel();
  const l2 = k2.listen('::1', 0, 5000, false);
  const ep2 = k2.epollCreate();
  const addr = k2.localAddress(l2);
  if (typeof addr === 'number') throw new Error('no address');
  const ps = Array.from({ length: 4096 }, () => k2.connect(addr.port));
  assert.ok(k2.connect(addr.port).refused, 'backlog capped at SOMAXCONN (4096)');
  for (let i = 0; i < 4096; i++) acceptOne(k2, l2, ep2);
  const t0 = performance.now();
  for (let i = 0; i < 20000; i++) {
    ps[(i * 7) % 4096]!.write('x');
    const evs = wait(k2, ep2, 8);
    for (const e of evs) k2.recv(e.lo, mem, 0, 16);
  }
  assert.ok(performance.now() - t0 < 2000);
});

test.run();
