/**
 * Every range a guest names is checked without 32-bit wrap-around. Each case picks a range
 * whose end, taken modulo 2^32, lands INSIDE memory (ptr = 0xffffff00, len = 0x200 ends at
 * 0x100 mod 2^32), so a check written as `(u32)(ptr + len) <= size` passes it and the call
 * goes on to the socket or to memory; the correct check answers -EFAULT first.
 *
 * To make the difference visible without letting a broken check write anywhere, the sockets
 * used fail before they touch memory: recv on an idle connection is -EAGAIN, send on one whose
 * write side is shut is -EPIPE, epoll_wait on an empty set is 0. Checked here in both kernels
 * (the native shim, host/native/binding.c, and the simulated one, host/kernel/sim/); in the
 * instance's own checks (host/guest/hostcalls.ts, host/guest/instance.ts) and in salvage
 * (host/guest/salvage.ts): test/range-wrap-guest.test.ts.
 * Run: npx tsx node_modules/uvu/bin.js test range-wrap
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import { SHUT_WR, type Kernel } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { raw, withDescriptors, type RawKernel } from './helpers/raw-kernel.ts';
import { EFAULT, MEM_SIZE, WRAP_LEN, WRAP_PTR, WRAP_RECORDS } from './helpers/range-wrap.ts';

interface Fixture {
  k: RawKernel<Kernel>;
  /** An empty epoll set. */
  ep: number;
  /** A connection with nothing to read: recv is -EAGAIN without touching memory. */
  idle: number;
  /** A connection whose write side is shut: send is -EPIPE without touching memory. */
  shut: number;
  /** [recvMany, sendMany] over two records at WRAP_RECORDS, on the fixture's sockets. */
  recordArrayWrap(): number[];
  close(): void;
}

/** A check that wrapped would read the records 4 GiB past the buffer and crash the process:
 *  the native case runs in a child, so that a broken shim fails this test, not the run. */
function nativeRecordArrayWrap(): number[] {
  const script = `import { loadNative } from './host/kernel/native.ts';
const k = loadNative(), mem = new ArrayBuffer(${MEM_SIZE});
k.ioDescriptors.set([1 << 30, 1 << 30]);
console.log(JSON.stringify([k.recvMany(mem, ${WRAP_RECORDS}, 2, 0, 0), k.sendMany(mem, ${WRAP_RECORDS}, 2)]));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.is(r.status, 0, `child ended with ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

async function nativeFixture(): Promise<Fixture> {
  const k = raw(loadNative());
  const lfd = k.listen('127.0.0.1', 0, 8, false);
  assert.ok(lfd >= 0, `listen: ${lfd}`);
  const addr = k.localAddress(lfd);
  if (typeof addr === 'number') throw new Error(`localAddress: ${addr}`);
  const clients = [net.connect(addr.port, '127.0.0.1'), net.connect(addr.port, '127.0.0.1')];
  for (const c of clients) c.on('error', () => {});
  const fds: number[] = [];
  const deadline = Date.now() + 5000;
  while (fds.length < 2) {
    const fd = k.accept(lfd);
    if (fd >= 0) fds.push(fd);
    else if (fd !== -Errno.EAGAIN || Date.now() > deadline) throw new Error(`accept: ${fd}`);
    else await new Promise((r) => setTimeout(r, 5));
  }
  const [idle, shut] = fds as [number, number];
  assert.is(k.shutdown(shut, SHUT_WR), 0);
  const ep = k.epollCreate();
  return {
    k,
    ep,
    idle,
    shut,
    recordArrayWrap: nativeRecordArrayWrap,
    close() {
      for (const c of clients) c.destroy();
      for (const fd of [idle, shut, ep, lfd]) k.close(fd);
    },
  };
}

function simFixture(): Fixture {
  const k = new SimKernel();
  const lfd = k.listen('127.0.0.1', 0, 8, false);
  const addr = k.localAddress(lfd);
  if (typeof addr === 'number') throw new Error(`localAddress: ${addr}`);
  k.connect(addr.port);
  k.connect(addr.port);
  const idle = k.accept(lfd);
  const shut = k.accept(lfd);
  assert.ok(idle >= 0 && shut >= 0, 'accepted');
  assert.is(k.shutdown(shut, SHUT_WR), 0);
  const mem = new ArrayBuffer(MEM_SIZE);
  const recordArrayWrap = () => [
    withDescriptors(raw(k), [idle, idle]).recvMany(mem, WRAP_RECORDS, 2, 0, 0),
    withDescriptors(raw(k), [shut, shut]).sendMany(mem, WRAP_RECORDS, 2),
  ];
  return { k: raw(k), ep: k.epollCreate(), idle, shut, recordArrayWrap, close() {} };
}

/** I/O records (handle 0, buf, len, result canary) at `at`. */
function records(mem: ArrayBuffer, at: number, list: [buf: number, len: number][]): Int32Array {
  const w = new Int32Array(mem, at, list.length * 4);
  list.forEach(([buf, len], i) => w.set([0, buf | 0, len | 0, 0x7eadbeef], i * 4));
  return w;
}

/** The cases, each on a fresh fixture and a fresh MEM_SIZE memory. */
const KERNEL_CASES: Record<string, (f: Fixture, mem: ArrayBuffer) => void> = {
  'recv: a range whose end wraps into memory is -EFAULT': (f, mem) => {
    assert.is(f.k.recv(f.idle, mem, WRAP_PTR, WRAP_LEN), EFAULT);
  },

  'send: a range whose end wraps into memory is -EFAULT': (f, mem) => {
    assert.is(f.k.send(f.shut, mem, WRAP_PTR, WRAP_LEN), EFAULT);
  },

  'epollWait: an event ring whose end wraps into memory is -EFAULT': (f, mem) => {
    // 0xfffffff4 + 2 * 12 = 0x1_0000_000c
    assert.is(f.k.epollWait(f.ep, mem, 0xfffffff4, 2, 0), EFAULT);
  },

  'recvMany/sendMany: a record array whose end wraps into memory is -EFAULT': (f) => {
    assert.equal(f.recordArrayWrap(), [EFAULT, EFAULT]);
  },

  'recvMany: a receive area whose end wraps into memory is -EFAULT, and no record is done': (
    f,
    mem,
  ) => {
    const w = records(mem, 0, [[0, 16]]);
    assert.is(withDescriptors(f.k, [f.idle]).recvMany(mem, 0, 1, WRAP_PTR, WRAP_LEN), EFAULT);
    assert.equal([w[1], w[3]], [0, 0x7eadbeef], 'record untouched');
  },

  'recvMany/sendMany: a record whose own buffer wraps into memory gets -EFAULT alone': (f, mem) => {
    let w = records(mem, 0, [
      [WRAP_PTR, WRAP_LEN],
      [64, 8],
    ]);
    assert.is(withDescriptors(f.k, [f.idle, f.idle]).recvMany(mem, 0, 2, 0, 0), 0);
    assert.equal([w[3], w[7]], [EFAULT, -Errno.EAGAIN]);
    w = records(mem, 0, [
      [WRAP_PTR, WRAP_LEN],
      [64, 8],
    ]);
    assert.is(withDescriptors(f.k, [f.shut, f.shut]).sendMany(mem, 0, 2), 0);
    assert.equal([w[3], w[7]], [EFAULT, -Errno.EPIPE]);
  },
};

function kernelCases(name: string, make: () => Fixture | Promise<Fixture>): void {
  const test = suite(`range-wrap: ${name} kernel`);
  let f: Fixture;
  let mem: ArrayBuffer;
  test.before.each(async () => {
    f = await make();
    mem = new ArrayBuffer(MEM_SIZE);
  });
  test.after.each(() => f.close());
  for (const [title, run] of Object.entries(KERNEL_CASES)) test(title, () => run(f, mem));
  test.run();
}

kernelCases('native', nativeFixture);
kernelCases('simulated', simFixture);
