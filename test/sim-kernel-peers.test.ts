/**
 * The simulated kernel on its own (no wasm): what a scripted peer sees and does at the ends
 * of a connection (FIN, reset, close and shutdown from either side) and the addresses peers
 * connect from. The rest of the sim's own behaviour: test/sim-kernel.test.ts.
 * Run: npx tsx node_modules/uvu/bin.js test sim-kernel
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  SHUT_RD,
  SHUT_WR,
} from '../host/kernel/contract.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { acceptOne, mem, recvText, sendText, setup, wait } from './helpers/sim-kernel.ts';

// Events and recv results of a FIN: test/kernel-contract-errors.ts. Here what the scripted peer sees.
test('peer shutdownWrite: a later write is a script error; our SHUT_WR reaches the peer', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep, EPOLLIN | EPOLLRDHUP);
  peer.write('last words');
  peer.shutdownWrite();
  assert.throws(() => peer.write('more'));
  assert.is(recvText(k, fd), 'last words');
  assert.is(k.recv(fd, mem, 0, 10), 0);
  assert.is(k.recv(fd, mem, 0, 10), 0);
  assert.is(sendText(k, fd, 'bye'), 3, 'half-closed: the server can still send');
  assert.is(k.shutdown(fd, SHUT_WR), 0);
  assert.ok(peer.serverShutWrite);
  assert.is(peer.readText(), 'bye');
  assert.ok(peer.eof);
});
// The contract's peerAddress cases (listener, closed fd, epoll fd, reset): test/kernel-contract*.ts.
test('peerAddress: each scripted peer has a port of its own; any source address, IPv6 included', () => {
  const { k, lfd, ep, port } = setup();
  const a = k.connect(port);
  const b = k.connect(port, undefined, '127.0.0.7');
  const fa = acceptOne(k, lfd, ep, EPOLLOUT);
  const fb = acceptOne(k, lfd, ep, EPOLLOUT);
  const pa = k.peerAddress(fa);
  const pb = k.peerAddress(fb);
  if (typeof pa === 'number' || typeof pb === 'number')
    throw new Error(`peerAddress: ${pa}, ${pb}`);
  assert.is(pa.host, '127.0.0.1');
  assert.is(pb.host, '127.0.0.7');
  assert.is(pb.family, 4);
  assert.ok(pa.port >= 32768 && pa.port !== pb.port, 'each peer has a port of its own');
  assert.equal(pb, b.address);
  const v6 = new SimKernel();
  const l6 = v6.listen('::1', 0, 8, false);
  const p6 = (v6.localAddress(l6) as { port: number }).port;
  v6.connect(p6, undefined, '2001:db8::5');
  assert.equal(
    { ...(v6.peerAddress(v6.accept(l6)) as object), port: 0 },
    { host: '2001:db8::5', port: 0, family: 6 },
  );
  a.close();
  assert.is(k.connect(port + 1).address, null, 'a refused peer has no address');
});
// The server's side of a reset (events, errnos, the sim's deviations): test/kernel-contract-errors.ts.
test('peer reset: unread data discarded; closing the server side does not reset the peer', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep, EPOLLOUT);
  peer.write('doomed');
  peer.reset();
  assert.is(k.recv(fd, mem, 0, 10), -Errno.ECONNRESET);
  assert.is(k.close(fd), 0);
  assert.not.ok(peer.wasReset, 'the server did not reset the peer');
});
test('server close: FIN normally, RST with unread data', () => {
  const { k, lfd, ep, port } = setup();
  const calm = k.connect(port);
  const rude = k.connect(port);
  const a = acceptOne(k, lfd, ep);
  const b = acceptOne(k, lfd, ep);
  assert.is(sendText(k, a, 'bye'), 3);
  assert.is(k.close(a), 0);
  assert.ok(calm.serverClosed);
  assert.not.ok(calm.wasReset);
  assert.not.ok(calm.eof, 'unread data first');
  assert.is(calm.readText(), 'bye');
  assert.ok(calm.eof);
  rude.write('unread');
  assert.is(k.close(b), 0);
  assert.ok(rude.serverClosed);
  assert.ok(rude.wasReset);
  assert.not.ok(rude.eof);
  assert.is(k.openFds(), 0);
  assert.equal(wait(k, ep), []);
});

test('peer close: the next server send gets EPIPE, then ERR|HUP', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep, EPOLLIN | EPOLLOUT);
  peer.write('req');
  peer.close();
  assert.equal(wait(k, ep), [{ events: EPOLLIN | EPOLLOUT, lo: fd, hi: 0 }]);
  assert.is(recvText(k, fd), 'req');
  assert.is(k.recv(fd, mem, 0, 10), 0);
  assert.is(sendText(k, fd, 'resp'), -Errno.EPIPE);
  assert.equal(wait(k, ep), [{ events: EPOLLIN | EPOLLERR | EPOLLHUP, lo: fd, hi: 0 }]);
  assert.is(sendText(k, fd, 'resp'), -Errno.EPIPE);
});

test('peer close with unread data is a reset', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep);
  assert.is(sendText(k, fd, 'unread by peer'), 14);
  peer.close();
  assert.is(k.recv(fd, mem, 0, 10), -Errno.ECONNRESET);
});

test('server shutdown: SHUT_WR then EPIPE, SHUT_RD then EOF', () => {
  const { k, lfd, ep, port } = setup();
  const peer = k.connect(port);
  const fd = acceptOne(k, lfd, ep, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
  assert.is(sendText(k, fd, 'data'), 4);
  assert.is(k.shutdown(fd, SHUT_WR), 0);
  assert.ok(peer.serverShutWrite);
  assert.not.ok(peer.eof);
  assert.is(peer.readText(), 'data');
  assert.ok(peer.eof);
  assert.is(sendText(k, fd, 'more'), -Errno.EPIPE);
  assert.equal(wait(k, ep), []);
  peer.write('ignored');
  assert.is(k.shutdown(fd, SHUT_RD), 0);
  assert.is(k.recv(fd, mem, 0, 10), 0);
  assert.equal(wait(k, ep), [{ events: EPOLLIN | EPOLLRDHUP | EPOLLHUP, lo: fd, hi: 0 }]);
  assert.is(k.shutdown(fd, 3), -Errno.EINVAL);
  assert.is(k.shutdown(lfd, SHUT_RD), -Errno.ENOTCONN);
  assert.is(k.shutdown(ep, SHUT_RD), -Errno.ENOTSOCK);
});

test.run();
