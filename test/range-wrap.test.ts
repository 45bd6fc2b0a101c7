/**
 * Every range a guest names is checked without 32-bit wrap-around. Each case picks a range
 * whose end, taken modulo 2^32, lands INSIDE memory (ptr = 0xffffff00, len = 0x200 ends at
 * 0x100 mod 2^32), so a check written as `(u32)(ptr + len) <= size` passes it and the call
 * goes on to the socket or to memory; the correct check answers -EFAULT first.
 *
 * To make the difference visible without letting a broken check write anywhere, the sockets
 * used fail before they touch memory: recv on an idle connection is -EAGAIN, send on one whose
 * write side is shut is -EPIPE, epoll_wait on an empty set is 0. Checked in both kernels (the
 * native shim, host/native/binding.c, and the simulated one, host/kernel/sim/), in the instance's own
 * checks (host/guest/hostcalls.ts, host/guest/instance.ts) and in salvage (host/guest/salvage.ts).
 * Run: npx tsx node_modules/uvu/bin.js test range-wrap
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import { WasmloopError } from '../host/errors.ts';
import { GuestInstance } from '../host/guest/instance.ts';
import { SHUT_WR, type Fd, type Kernel } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { salvage, type SalvageTarget } from '../host/guest/salvage.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { probeGuest } from './helpers/wat.ts';
import { raw, type RawKernel } from './helpers/raw-kernel.ts';

const EFAULT = -Errno.EFAULT;
/** ptr + len = 0x1_0000_0100: out of memory, but 0x100 (in memory) in 32-bit arithmetic. */
const WRAP_PTR = 0xffffff00;
const WRAP_LEN = 0x200;
/** 16-byte aligned start whose records (2 x 16 bytes) end at 0x10 mod 2^32. */
const WRAP_RECORDS = 0xfffffff0;
const MEM_SIZE = 1 << 16;

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
const k = loadNative(), mem = new ArrayBuffer(${MEM_SIZE}), fds = Int32Array.of(1 << 30, 1 << 30);
console.log(JSON.stringify([k.recvMany(fds, mem, ${WRAP_RECORDS}, 2, 0, 0), k.sendMany(fds, mem, ${WRAP_RECORDS}, 2)]));`;
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
    k.recvMany(Int32Array.of(idle, idle), mem, WRAP_RECORDS, 2, 0, 0),
    k.sendMany(Int32Array.of(shut, shut), mem, WRAP_RECORDS, 2),
  ];
  return { k: raw(k), ep: k.epollCreate(), idle, shut, recordArrayWrap, close() {} };
}

/** I/O records (handle 0, buf, len, result canary) at `at`. */
function records(mem: ArrayBuffer, at: number, list: [buf: number, len: number][]): Int32Array {
  const w = new Int32Array(mem, at, list.length * 4);
  list.forEach(([buf, len], i) => w.set([0, buf | 0, len | 0, 0x7eadbeef], i * 4));
  return w;
}

function kernelCases(name: string, make: () => Fixture | Promise<Fixture>): void {
  const test = suite(`range-wrap: ${name} kernel`);
  let f: Fixture;
  let mem: ArrayBuffer;
  test.before.each(async () => {
    f = await make();
    mem = new ArrayBuffer(MEM_SIZE);
  });
  test.after.each(() => f.close());

  test('recv: a range whose end wraps into memory is -EFAULT', () => {
    assert.is(f.k.recv(f.idle, mem, WRAP_PTR, WRAP_LEN), EFAULT);
  });

  test('send: a range whose end wraps into memory is -EFAULT', () => {
    assert.is(f.k.send(f.shut, mem, WRAP_PTR, WRAP_LEN), EFAULT);
  });

  test('epollWait: an event ring whose end wraps into memory is -EFAULT', () => {
    // 0xfffffff4 + 2 * 12 = 0x1_0000_000c
    assert.is(f.k.epollWait(f.ep, mem, 0xfffffff4, 2, 0), EFAULT);
  });

  test('recvMany/sendMany: a record array whose end wraps into memory is -EFAULT', () => {
    assert.equal(f.recordArrayWrap(), [EFAULT, EFAULT]);
  });

  test('recvMany: a receive area whose end wraps into memory is -EFAULT, and no record is done', () => {
    const w = records(mem, 0, [[0, 16]]);
    assert.is(f.k.recvMany(Int32Array.of(f.idle), mem, 0, 1, WRAP_PTR, WRAP_LEN), EFAULT);
    assert.equal([w[1], w[3]], [0, 0x7eadbeef], 'record untouched');
  });

  test('recvMany/sendMany: a record whose own buffer wraps into memory gets -EFAULT alone', () => {
    let w = records(mem, 0, [
      [WRAP_PTR, WRAP_LEN],
      [64, 8],
    ]);
    assert.is(f.k.recvMany(Int32Array.of(f.idle, f.idle), mem, 0, 2, 0, 0), 0);
    assert.equal([w[3], w[7]], [EFAULT, -Errno.EAGAIN]);
    w = records(mem, 0, [
      [WRAP_PTR, WRAP_LEN],
      [64, 8],
    ]);
    assert.is(f.k.sendMany(Int32Array.of(f.shut, f.shut), mem, 0, 2), 0);
    assert.equal([w[3], w[7]], [EFAULT, -Errno.EPIPE]);
  });

  test.run();
}

kernelCases('native', nativeFixture);
kernelCases('simulated', simFixture);

// ---- the instance's own checks (host/guest/hostcalls.ts, host/guest/instance.ts) ------------------

interface Probe {
  call_recv(h: number, ptr: number, len: number): number;
  call_recv_many(ptr: number, n: number, area: number, areaLen: number): number;
  call_send_many(ptr: number, n: number): number;
  call_limit(ptr: number, len: number): number;
  adopted(): number;
}

/** A probe guest over the simulated kernel; `batches` counts recvMany/sendMany reaching it. */
function probe(layout: Parameters<typeof probeGuest>[0] = {}) {
  const sim = new SimKernel();
  const calls: string[] = [];
  const kernel = new Proxy(sim, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (key === 'recvMany' || key === 'sendMany') calls.push(key);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const g = new GuestInstance(probeGuest(layout), {
    kernel,
    epfd: sim.epollCreate(),
    listeners: [],
    now: () => sim.now,
    limits: { 'max-connections': 10 },
  });
  return { sim, g, calls, ex: g.exports as unknown as Probe };
}

const inst = suite('range-wrap: instance');

inst(
  'recv_many/send_many: the instance refuses a wrapping record array or area before the kernel sees it',
  () => {
    const { ex, calls } = probe();
    assert.is(ex.call_recv_many(WRAP_RECORDS, 2, 0, 0), EFAULT);
    assert.is(ex.call_recv_many(0, 1, WRAP_PTR, WRAP_LEN), EFAULT);
    assert.is(ex.call_send_many(WRAP_RECORDS, 2), EFAULT);
    assert.equal(calls, [], 'no batch reached the kernel');
  },
);

inst('recv of carried-over input: a wrapping range is -EFAULT and the input stays', () => {
  const { sim, g, ex } = probe();
  const lfd = sim.listen('127.0.0.1', 0, 8, false);
  const addr = sim.localAddress(lfd);
  if (typeof addr === 'number') throw new Error('no address');
  sim.connect(addr.port);
  const fd = sim.accept(lfd);
  g.adopt({ fd, input: new TextEncoder().encode('carried'), linger: false }, 0);
  const h = ex.adopted();
  assert.ok(h > 0, 'adopted');
  assert.is(ex.call_recv(h, WRAP_PTR, WRAP_LEN), EFAULT);
  assert.is(ex.call_recv(h, 0, 64), 7, 'the carried bytes are all still there');
  assert.is(Buffer.from(g.memory, 0, 7).toString(), 'carried');
});

inst('limit: a name whose range wraps into memory is -1, not a throw', () => {
  const { g, ex } = probe();
  new Uint8Array(g.memory).set(new TextEncoder().encode('max-connections'), 0);
  assert.is(ex.call_limit(0, 15), 10, 'the name is read in memory');
  assert.is(ex.call_limit(0xfffffff8, 15), -1); // ends at 0x7 mod 2^32
});

inst('load: an event ring or stats region whose end wraps into memory is refused', () => {
  const refused = (layout: Parameters<typeof probeGuest>[0], what: RegExp) => {
    try {
      probe(layout);
    } catch (e) {
      assert.instance(e, WasmloopError);
      assert.is((e as WasmloopError).code, 'ERR_WASMLOOP_ABI');
      assert.match((e as Error).message, what);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(layout)}`);
  };
  refused({ eventsPtr: 0xfffffff4, eventsCap: 2 }, /event ring/); // ends at 0xc mod 2^32
  refused({ statsPtr: 0xfffffff0 }, /stats/); // 10 counters: ends at 0x40 mod 2^32
});

inst.run();

// ---- salvage (host/guest/salvage.ts) ---------------------------------------------------------------

/** A trapped guest whose slot 0 names `first`, slot 1 a sound connection (handle 2, 5 bytes
 *  of input at 100), as ADOPT records at offset 0. */
function trapped(first: [inPtr: number, inLen: number], trapReply = 0): SalvageTarget {
  const memory = new ArrayBuffer(MEM_SIZE);
  const view = new DataView(memory);
  const slots = [
    [1, ...first],
    [2, 100, 5],
  ] as const;
  return {
    memory,
    exports: {
      wl_salvage_record: () => 0,
      wl_trap_reply: () => trapReply | 0,
      wl_salvage(slot) {
        const s = slots[slot];
        if (s === undefined) return -1;
        s.forEach((v, i) => view.setUint32(i * 4, v, true));
        view.setUint32(12, 0, true);
        view.setUint32(16, 0, true);
        return 1;
      },
    },
    connFd: (h) => (h + 10) as Fd,
    release: () => null,
    discard: () => {},
  };
}

const salv = suite('range-wrap: salvage');

salv('an input range that wraps into memory drops that connection only', () => {
  const out = salvage(trapped([WRAP_PTR, WRAP_LEN]), new SimKernel());
  assert.equal(
    out.handovers.map((h) => h.fd),
    [12],
    'the sound connection is still saved',
  );
});

salv('a trap reply whose length word wraps into memory is ignored, and salvage goes on', () => {
  const out = salvage(trapped([100, 5], 0xfffffffe), new SimKernel()); // +4 ends at 0x2
  assert.equal(
    out.handovers.map((h) => h.fd),
    [11, 12],
  );
});

salv.run();
