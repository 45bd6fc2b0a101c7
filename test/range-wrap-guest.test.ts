/**
 * Every range a guest names is checked without 32-bit wrap-around (test/range-wrap.test.ts has
 * the kernels): here the instance's own checks (host/guest/hostcalls.ts, host/guest/instance.ts) and salvage
 * (host/guest/salvage.ts). Each range's end, taken modulo 2^32, lands inside memory
 * (test/helpers/range-wrap.ts); the correct check answers -EFAULT or refuses.
 * Run: npx tsx node_modules/uvu/bin.js test range-wrap
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { WasmloopError } from '../host/errors.ts';
import { GuestInstance } from '../host/guest/instance.ts';
import type { Fd } from '../host/kernel/contract.ts';
import { salvage, type SalvageTarget } from '../host/guest/salvage.ts';
import { SimKernel } from '../host/kernel/sim/kernel.ts';
import { probeGuest } from './helpers/wat.ts';
import { EFAULT, MEM_SIZE, WRAP_LEN, WRAP_PTR, WRAP_RECORDS } from './helpers/range-wrap.ts';

// ---- the instance's own checks (host/guest/hostcalls.ts, host/guest/instance.ts) ----

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
