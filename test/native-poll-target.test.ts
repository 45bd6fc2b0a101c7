/**
 * pollTarget: the shim's uv_poll callback fetching events into a target ArrayBuffer range (the
 * guest's event ring) before it enters JS, so the libuv driver's wake-up is one crossing. The
 * rest of the poll lifecycle is in test/native.test.ts. Run: npx tsx test/native-poll-target.test.ts
 */
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import { EPOLL_CTL_ADD, EPOLLIN, type SockAddr } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { until } from './helpers/kernel-backends.ts';
import { raw } from './helpers/raw-kernel.ts';

const k = raw(loadNative());
const RECORD = 12;

/** An epoll fd watching a fresh listener (data lo 7, hi 9), and a way to make it readable. */
function readyable() {
  const ep = k.epollCreate();
  const fd = k.listen('127.0.0.1', 0, 16, false);
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 7, 9), 0);
  const { port } = k.localAddress(fd) as SockAddr;
  const clients: net.Socket[] = [];
  return {
    ep,
    fd,
    connect: () => clients.push(net.connect(port, '127.0.0.1').on('error', () => {})),
    /** Closes everything, the clients' sockets included, before the next suite counts fds. */
    close: async () => {
      const closed = (c: net.Socket) =>
        c.closed || new Promise((done) => c.destroy().once('close', done));
      await Promise.all(clients.map(closed));
      k.close(fd);
      k.close(ep);
    },
  };
}

test('pollTarget checks its arguments before it changes anything', () => {
  const ep = k.epollCreate();
  const h = k.pollStart(ep, () => {}) as object;
  const mem = new ArrayBuffer(3 * RECORD);
  const any = k as unknown as { pollTarget: (...a: unknown[]) => number };
  assert.is(any.pollTarget({}, null), -Errno.EINVAL, 'not a poll handle');
  assert.is(any.pollTarget(h, 'memory', 0, 1), -Errno.EINVAL, 'not an ArrayBuffer');
  assert.is(any.pollTarget(h, new Uint8Array(mem), 0, 1), -Errno.EINVAL, 'a view, not a buffer');
  assert.is(any.pollTarget(h, mem, 0, 0), -Errno.EINVAL, 'no room for an event');
  assert.is(any.pollTarget(h, mem, 0.5, 1), -Errno.EINVAL, 'a fraction');
  assert.is(any.pollTarget(h, mem, 0, 65537), -Errno.EINVAL, 'more than MAX_EVENTS');
  assert.is(k.pollTarget(h, mem, 0, 4), -Errno.EFAULT, 'four records do not fit');
  assert.is(k.pollTarget(h, mem, RECORD + 1, 2), -Errno.EFAULT, 'the last byte is outside');
  assert.is(k.pollTarget(h, mem, RECORD, 2), 0);
  assert.is(k.pollTarget(h, null), 0, 'null: no target');
  assert.is(k.pollStop(h), 0);
  assert.is(k.pollTarget(h, mem, 0, 1), -Errno.EBADF, 'a stopped poll');
  k.close(ep);
});

test('with a target, the callback gets the count and the records are already in it', async () => {
  const r = readyable();
  const mem = new ArrayBuffer(64);
  const seen: number[] = [];
  const records: number[][] = [];
  const h = k.pollStart(r.ep, (n) => {
    seen.push(n);
    const view = new DataView(mem, 16, RECORD);
    records.push([view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true)]);
    for (let fd; (fd = k.accept(r.fd)) >= 0;) k.close(fd);
  }) as object;
  assert.is(k.pollTarget(h, mem, 16, 2), 0);
  r.connect();
  await until(() => (seen.length > 0 ? true : undefined), 'the callback');
  assert.equal(seen, [1]);
  assert.equal(records[0], [EPOLLIN, 7, 9]);
  assert.is(k.pollStop(h), 0);
  await r.close();
});

test('without a target, or with a detached one, the callback drains the fd itself', async () => {
  const r = readyable();
  let mem = new ArrayBuffer(RECORD);
  const seen: number[] = [];
  const h = k.pollStart(r.ep, (n) => {
    seen.push(n);
    assert.is(k.epollWait(r.ep, new ArrayBuffer(RECORD), 0, 1, 0), 1, 'the event is still there');
    for (let fd; (fd = k.accept(r.fd)) >= 0;) k.close(fd);
  }) as object;
  r.connect();
  await until(() => (seen.length === 1 ? true : undefined), 'the first callback');
  assert.is(seen[0], -Errno.ENOENT, 'no target');
  assert.is(k.pollTarget(h, mem, 0, 1), 0);
  mem = structuredClone(mem, { transfer: [mem] }); // detaches the target, as memory.grow does
  r.connect();
  await until(() => (seen.length === 2 ? true : undefined), 'the second callback');
  assert.is(seen[1], -Errno.EFAULT, 'the detached target has no room');
  assert.is(k.pollStop(h), 0);
  await r.close();
});

test.run();
