/**
 * pollLinger: the libuv driver's wait for the guest's next event inside a wake-up, which must
 * give the thread back to Node as soon as Node has anything to do (a timer due, an immediate
 * queued, one of its own fds ready). The rest of the poll is in test/native.test.ts and
 * test/native-poll-target.test.ts. Run: npx tsx test/native-poll-linger.test.ts
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import { EPOLL_CTL_ADD, EPOLLIN, type SockAddr } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { raw } from './helpers/raw-kernel.ts';

const k = raw(loadNative());
const RECORD = 12;

/** A poll with a target on an epoll fd watching a fresh listener (data lo 7, hi 9). */
function lingering() {
  const ep = k.epollCreate();
  const fd = k.listen('127.0.0.1', 0, 16, false);
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 7, 9), 0);
  const mem = new ArrayBuffer(4 * RECORD);
  const poll = k.pollStart(ep, () => {}) as object;
  assert.is(k.pollTarget(poll, mem, RECORD, 2), 0);
  const { port } = k.localAddress(fd) as SockAddr;
  const clients: net.Socket[] = [];
  return {
    poll,
    mem,
    /** Resolves once the connection is in the listener's queue. */
    connect: () => {
      const c = net.connect(port, '127.0.0.1').on('error', () => {});
      clients.push(c);
      return new Promise((done) => c.once('connect', done));
    },
    close: async () => {
      assert.is(k.pollStop(poll), 0);
      const closed = (c: net.Socket) =>
        c.closed || new Promise((done) => c.destroy().once('close', done));
      await Promise.all(clients.map(closed));
      k.close(fd);
      k.close(ep);
    },
  };
}

/** How long `fn` took, in ms, and what it returned. */
function timed(fn: () => number): { ms: number; r: number } {
  const t0 = performance.now();
  const r = fn();
  return { ms: performance.now() - t0, r };
}

test('pollLinger checks its arguments, and a stopped poll is -EBADF', async () => {
  const l = lingering();
  const any = k as unknown as { pollLinger: (...a: unknown[]) => number };
  assert.is(any.pollLinger({}, 1), -Errno.EINVAL, 'not a poll handle');
  assert.is(any.pollLinger(l.poll, -1), -Errno.EINVAL, 'a negative wait');
  assert.is(any.pollLinger(l.poll, 1001), -Errno.EINVAL, 'more than a second');
  assert.is(any.pollLinger(l.poll), -Errno.EINVAL, 'no wait given');
  await l.close();
  assert.is(k.pollLinger(l.poll, 1), -Errno.EBADF);
});

/** Runs `fn` on the poll, then stops it and closes everything, even when `fn` throws: a poll
 *  left on a listener that stays readable would spin this process. */
async function withPoll(fn: (l: ReturnType<typeof lingering>) => Promise<void>): Promise<void> {
  const l = lingering();
  try {
    await fn(l);
  } finally {
    await l.close();
  }
}

const later = (ms: number) => new Promise((done) => setTimeout(done, ms));

// Node may have work of its own at any moment (a V8 background task posting back, say), and then
// pollLinger rightly returns 0 at once: what must hold every time is only that it never waits
// past Node's work; that it does wait, and fetches, is checked over a few tries.

test('an event that is there is fetched into the target', () =>
  withPoll(async (l) => {
    await l.connect(); // the listener stays readable until it accepts: level-triggered
    let r = 0;
    for (let i = 0; i < 50 && r === 0; i++) {
      await later(2);
      r = k.pollLinger(l.poll, 1000);
    }
    assert.is(r, 1);
    const view = new DataView(l.mem, RECORD, RECORD);
    const record = [0, 4, 8].map((at) => view.getUint32(at, true));
    assert.equal(record, [EPOLLIN, 7, 9]);
  }));

test('with nothing to do it waits (no busy loop), up to maxMs', () =>
  withPoll(async (l) => {
    let longest = 0;
    for (let i = 0; i < 10 && longest < 15; i++) {
      await later(2);
      const { ms, r } = timed(() => k.pollLinger(l.poll, 20));
      assert.is(r, 0);
      assert.ok(ms < 500, `took ${ms} ms`);
      longest = Math.max(longest, ms);
    }
    assert.ok(longest >= 15, `never waited: longest ${longest} ms`);
  }));

test('a queued immediate: 0 at once', () =>
  withPoll(async (l) => {
    const ran = new Promise((done) => setImmediate(done));
    const { ms, r } = timed(() => k.pollLinger(l.poll, 1000));
    assert.is(r, 0);
    assert.ok(ms < 500, `took ${ms} ms`);
    await ran;
  }));

test('a Node timer due sooner ends the wait', () =>
  withPoll(async (l) => {
    const fired = new Promise((done) => setTimeout(done, 30));
    const { ms, r } = timed(() => k.pollLinger(l.poll, 1000));
    assert.is(r, 0);
    assert.ok(ms < 500, `took ${ms} ms`);
    await fired;
  }));

test("one of Node's own fds becoming readable ends the wait", () =>
  withPoll(async (l) => {
    const child = spawn('sh', ['-c', 'sleep 0.05; echo ready; exec sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const output = new Promise((done) => child.stdout.once('data', done));
    const closed = new Promise((done) => child.once('close', done));
    await new Promise((done) => child.once('spawn', done));
    await later(5); // libuv has added the pipe to its epoll
    const { ms, r } = timed(() => k.pollLinger(l.poll, 1000));
    assert.is(r, 0);
    assert.ok(ms < 800, `took ${ms} ms: the child's output did not end the wait`);
    await output;
    child.kill(); // only now: its SIGCHLD would end the wait too
    await closed;
  }));

test.run();
