/**
 * The simulated kernel on its own (no wasm), beyond the contract it shares with the native
 * kernel (test/kernel-contract.ts): listeners, scripted peers' bytes, descriptor numbering, its
 * epoll extras and its deviations from Linux. How connections end, seen from the scripted
 * peer: test/sim-kernel-peers.test.ts. Faults and determinism: test/sim-faults.test.ts.
 * Run: npx tsx node_modules/uvu/bin.js test sim-kernel
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_MOD,
  EPOLLET,
  EPOLLIN,
  EPOLLOUT,
} from '../host/kernel/contract.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { EPOLLONESHOT } from '../host/kernel/sim/epoll.ts';
import {
  acceptOne,
  LISTEN_TOKEN,
  mem,
  recvText,
  sendText,
  setup,
  wait,
} from './helpers/sim-kernel.ts';

test('listen, connect, accept, localAddress', () => {
  const { k, lfd, ep, port } = setup();
  assert.is(lfd, 3);
  assert.is(ep, 4);
  assert.ok(port >= 40000);
  assert.is(k.accept(lfd), -Errno.EAGAIN);
  assert.equal(wait(k, ep), []);
  const peer = k.connect(port);
  assert.not.ok(peer.refused);
  assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: LISTEN_TOKEN, hi: 0 }]);
  const fd = k.accept(lfd);
  assert.is(fd, 5);
  assert.ok(peer.accepted);
  assert.is(peer.fd, 5);
  assert.equal(k.localAddress(fd), { host: '127.0.0.1', port, family: 4 });
  assert.is(k.openFds(), 1);
  assert.ok(k.connect(port + 1).refused, 'no listener there');
});

test('listen: address in use, reusePort, bad arguments, backlog', () => {
  const k = new SimKernel();
  assert.ok(k.listen('127.0.0.1', 8080, 2, false) >= 3);
  assert.is(k.listen('127.0.0.1', 8080, 2, false), -Errno.EADDRINUSE);
  assert.is(k.listen('0.0.0.0', 8080, 2, false), -Errno.EADDRINUSE);
  assert.ok(k.listen('::1', 8080, 2, false) >= 3, 'other family, other address');
  const a = k.listen('127.0.0.1', 9090, 1, true);
  const b = k.listen('127.0.0.1', 9090, 1, true);
  assert.ok(a >= 3 && b > a);
  assert.is(k.listen('localhost', 1, 1, false), -Errno.EINVAL);
  assert.is(k.listen('127.0.0.1', 70000, 1, false), -Errno.EINVAL);
  assert.equal(k.localAddress(99), -Errno.EBADF);
  // Round-robin over the SO_REUSEPORT group, each queue holding `backlog` connections.
  assert.not.ok(k.connect(9090).refused);
  assert.not.ok(k.connect(9090).refused);
  assert.ok(k.connect(9090).refused);
  assert.is(k.accept(a), 7, 'fds 3-6 are the four listeners');
  assert.ok(k.accept(b) > 0);
  // Closing frees the port.
  assert.is(k.close(a), 0);
  assert.is(k.close(b), 0);
  assert.ok(k.listen('127.0.0.1', 9090, 1, false) >= 3);
});

test('recv/send roundtrip through an ArrayBuffer', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep);
  peer.write('hello, ');
  peer.write(new Uint8Array([119, 111, 114, 108, 100]));
  assert.is(recvText(k, fd, 3), 'hel');
  assert.is(recvText(k, fd), 'lo, world');
  assert.is(k.recv(fd, mem, 0, 10), -Errno.EAGAIN);
  assert.is(sendText(k, fd, 'pong'), 4);
  assert.is(peer.received, 4);
  assert.is(peer.readText(), 'pong');
  assert.is(peer.read().length, 0);
});

test('EPOLLET arrives as a negative i32 and is accepted', () => {
  const { k, lfd, ep, port } = setup();
  k.connect(port).write('x');
  const fd = k.accept(lfd);
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET | 0, 7, 0xffffffff | 0), 0);
  assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: 7, hi: 0xffffffff }]);
  assert.equal(wait(k, ep), []);
});

test('window full: short write, then EAGAIN, then EPOLLOUT after the peer reads', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  peer.setWindow(10);
  const fd = acceptOne(k, lfd, ep, EPOLLOUT);
  assert.equal(wait(k, ep), [{ events: EPOLLOUT, lo: fd, hi: 0 }]);
  assert.is(sendText(k, fd, '0123456789abcdef'), 10);
  assert.is(sendText(k, fd, 'x'), -Errno.EAGAIN);
  assert.equal(wait(k, ep), []);
  assert.is(peer.readText(), '0123456789');
  assert.equal(wait(k, ep), [{ events: EPOLLOUT, lo: fd, hi: 0 }]);
  assert.is(sendText(k, fd, 'abcdef'), 6);
  assert.is(peer.received, 16);
  assert.is(peer.drain(), 6);
});

test('stale fd: a closed number is reused, the old token never reappears', () => {
  const { k, lfd, ep, port } = setup();
  const first = k.connect(port);
  const fd = k.accept(lfd);
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 111, 0), 0);
  first.write('x');
  assert.is(k.close(fd), 0);
  assert.ok(first.wasReset);
  const second = k.connect(port);
  const again = k.accept(lfd);
  assert.is(again, fd, 'lowest free number');
  assert.is(
    k.epollCtl(ep, EPOLL_CTL_MOD, again, EPOLLIN, 222, 0),
    -Errno.ENOENT,
    'close removed it',
  );
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, again, EPOLLIN, 222, 0), 0);
  second.write('y');
  first.write('dropped');
  assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: 222, hi: 0 }]);
  assert.is(recvText(k, again), 'y');
});

test('fds are allocated lowest-free-first', () => {
  const { k, lfd, port } = setup();
  const fds: number[] = [];
  for (let i = 0; i < 5; i++) {
    k.connect(port);
    fds.push(k.accept(lfd));
  }
  assert.equal(fds, [5, 6, 7, 8, 9]);
  k.close(8);
  k.close(6);
  k.connect(port);
  k.connect(port);
  k.connect(port);
  assert.equal([k.accept(lfd), k.accept(lfd), k.accept(lfd)], [6, 8, 10]);
});

test('maxEvents: the rest come next time, round-robin', () => {
  const { k, lfd, ep, port } = setup();
  const fds: number[] = [];
  for (let i = 0; i < 3; i++) {
    k.connect(port).write('x');
    fds.push(acceptOne(k, lfd, ep));
  }
  assert.equal(
    wait(k, ep, 2).map((e) => e.lo),
    [fds[0], fds[1]],
  );
  assert.equal(
    wait(k, ep, 2).map((e) => e.lo),
    [fds[2], fds[0]],
  );
  assert.equal(
    wait(k, ep, 2).map((e) => e.lo),
    [fds[1], fds[2]],
  );
});

test('EPOLLONESHOT: one report, re-armed by MOD', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep, EPOLLIN | EPOLLONESHOT);
  peer.write('a');
  assert.equal(wait(k, ep).length, 1);
  peer.write('b');
  assert.equal(wait(k, ep), []);
  assert.is(k.epollCtl(ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, fd, 0), 0);
  assert.equal(wait(k, ep), [{ events: EPOLLIN, lo: fd, hi: 0 }]);
});

// epollCtl's errors, the sim's deviations included: test/kernel-contract-errors.ts.
test('epollCtl: a negative epoll fd is -EBADF (the shim, which checks types first, says -EINVAL)', () => {
  const { k, lfd } = setup();
  assert.is(k.epollCtl(-1, EPOLL_CTL_ADD, lfd, EPOLLIN, 0, 0), -Errno.EBADF);
});
// Bounds, closed fds and the wrong kind of descriptor: test/kernel-contract*.ts. There a bad
// argument may be any negative errno for the sim; here the sim's exact answers.
test("argument checks: the sim's exact errnos", () => {
  const { k, lfd, port } = setup();
  k.connect(port).write('data');
  const fd = k.accept(lfd);
  const small = new ArrayBuffer(16);
  assert.is(k.recv(fd, small, 10, 7), -Errno.EFAULT);
  assert.is(k.send(fd, small, 16, 1), -Errno.EFAULT);
  assert.is(k.recv(fd, small, -1, 4), -Errno.EINVAL);
  assert.is(k.recv(fd, small, 0.5, 4), -Errno.EINVAL);
  assert.is(k.recv(-3, small, 0, 4), -Errno.EBADF);
  assert.is(k.recv(fd, small, 12, 4), 4, 'exactly at the end is fine');
});

test.run();
