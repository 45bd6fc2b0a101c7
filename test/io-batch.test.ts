/**
 * The host side of recv_many/send_many (host/io-batch.ts) beyond what the kernels do:
 * - a batch of one is done with the kernel's plain recv/send (cheaper): it must give exactly
 *   the result a batch of several gives for the same record;
 * - input carried over from a trapped instance (docs/ABI.md, wl_adopt) is served by recv_many:
 *   the guest core receives only through it, so an adopted connection's carried input must
 *   come from it, in record order with the kernel's records, the area packed the same way;
 * - the view of the memory it keeps between calls follows the guest's memory.grow.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IO_MANY_MAX } from '../host/abi.ts';
import { Errno } from '../host/errno.ts';
import { HandleTable, Kind } from '../host/guest/handles.ts';
import { IoBatch } from '../host/guest/io-batch.ts';
import type { Fd, Kernel } from '../host/kernel/contract.ts';
import { ioMany } from '../host/kernel/sim/io-many.ts';

const AREA = 256;
const AREA_LEN = 32;

/** A kernel whose sockets hold the given bytes; recv_many as the simulated kernel does it. */
function kernelWith(bytes: Map<number, string>): Kernel {
  const k = {
    recv(fd: number, mem: ArrayBuffer, ptr: number, len: number): number {
      if (len === 0) return -Errno.EINVAL;
      if (ptr + len > mem.byteLength) return -Errno.EFAULT;
      const s = bytes.get(fd) ?? '';
      if (s.length === 0) return -Errno.EAGAIN;
      const n = Math.min(len, s.length);
      new Uint8Array(mem, ptr, n).set(Buffer.from(s.slice(0, n)));
      bytes.set(fd, s.slice(n));
      return n;
    },
    send(fd: number, mem: ArrayBuffer, ptr: number, len: number): number {
      if (len === 0) return -Errno.EINVAL;
      return ptr + len > mem.byteLength ? -Errno.EFAULT : Math.min(len, 3);
    },
    ioDescriptors: new Int32Array(IO_MANY_MAX),
    recvMany: (mem: ArrayBuffer, ptr: number, n: number, area: number, areaLen: number) =>
      ioMany(k, false, k.ioDescriptors, mem, ptr, n, area, areaLen),
    sendMany: (mem: ArrayBuffer, ptr: number, n: number) =>
      ioMany(k, true, k.ioDescriptors, mem, ptr, n, 0, 0),
  };
  return k as unknown as Kernel;
}

function records(mem: ArrayBuffer, recs: [handle: number, buf: number, len: number][]): Int32Array {
  const words = new Int32Array(mem, 0, recs.length * 4);
  recs.forEach(([h, buf, len], i) => words.set([h, buf, len, 0x7777], i * 4));
  return words;
}

const text = (mem: ArrayBuffer, ptr: number, len: number) => Buffer.from(mem, ptr, len).toString();

/** One record, in a batch of its own and then first of two (the second on a stale handle). */
const ONE_RECORD: [
  string,
  send: boolean,
  handle: 'ok' | 'idle' | 'stale',
  buf: number,
  len: number,
][] = [
  ['recv into the area', false, 'ok', 0, 16],
  ['recv into its buffer', false, 'ok', 600, 8],
  ['nothing to read', false, 'idle', 0, 16],
  ['a stale handle', false, 'stale', 0, 16],
  ['len 0 in the area', false, 'ok', 0, 0],
  ['len 0 in its buffer', false, 'ok', 600, 0],
  ['longer than the area', false, 'ok', 0, AREA_LEN + 1],
  ['past memory', false, 'ok', 1020, 8],
  ['send', true, 'ok', 600, 8],
  ['send, buf 0', true, 'ok', 0, 8],
  ['send len 0', true, 'ok', 600, 0],
  ['send past memory', true, 'ok', 1020, 8],
  ['send on a stale handle', true, 'stale', 600, 8],
];

/** The first record's result, its address and 8 bytes there, after a batch of `n` records
 *  on a fresh table and kernel. */
function firstRecordOutcome(
  send: boolean,
  which: 'ok' | 'idle' | 'stale',
  buf: number,
  len: number,
  n: number,
) {
  const t = new HandleTable({ maxConnections: 4, listeners: 0 });
  const ok = t.add(10 as Fd, Kind.Conn);
  const idle = t.add(11 as Fd, Kind.Conn);
  const handle = which === 'ok' ? ok : which === 'idle' ? idle : ok + 0x100000;
  const io = new IoBatch(
    t,
    kernelWith(
      new Map([
        [10, 'socket bytes'],
        [11, ''],
      ]),
    ),
  );
  const mem = new ArrayBuffer(1024);
  const w = records(mem, [
    [handle, buf, len],
    [ok + 0x100000, 0, 8],
  ]);
  assert.is(io.run(mem, 0, n, AREA, AREA_LEN, send), 0);
  return [w[1], w[3], text(mem, Math.min(w[1]! >>> 0 || AREA, 1016), 8)];
}

test('a batch of one gives what the same record gives in a batch of two', () => {
  for (const [name, send, which, buf, len] of ONE_RECORD) {
    assert.equal(
      firstRecordOutcome(send, which, buf, len, 1),
      firstRecordOutcome(send, which, buf, len, 2),
      name,
    );
  }
});

test('carried input comes first, record by record, packed into the area with the socket reads', () => {
  const t = new HandleTable({ maxConnections: 4, listeners: 0 });
  const a = t.add(10 as Fd, Kind.Conn);
  const b = t.add(11 as Fd, Kind.Conn);
  const c = t.add(12 as Fd, Kind.Conn);
  const io = new IoBatch(
    t,
    kernelWith(
      new Map([
        [10, 'SOCKA'],
        [11, 'sockb'],
        [12, 'sockc'],
      ]),
    ),
  );
  const carried = new Map([
    [a, Buffer.from('carried-a')],
    [c, Buffer.from('cc')],
  ]);
  const mem = new ArrayBuffer(1024);
  const w = records(mem, [
    [a, 0, 16],
    [b, 0, 8],
    [a + 0x100000, 0, 8],
    [c, 600, 8],
    [a, 0, 20],
  ]);
  assert.is(io.run(mem, 0, 5, AREA, AREA_LEN, false, carried), 0);
  assert.equal([w[1], w[3]], [AREA, 9], 'a: its carried input, at the start of the area');
  assert.is(text(mem, AREA, 9), 'carried-a');
  assert.equal([w[5], w[7]], [AREA + 9, 5], 'b: from its socket, packed after it');
  assert.is(text(mem, AREA + 9, 5), 'sockb');
  assert.is(w[11], -Errno.EBADF, 'a stale handle keeps its own verdict');
  assert.equal([w[13], w[15]], [600, 2], 'c: its carried input, into its own buffer');
  assert.is(text(mem, 600, 2), 'cc');
  assert.is(w[19], -Errno.EAGAIN, 'a again: 18 bytes of the area are left, 20 asked: it waits');
  assert.is(carried.size, 0, 'all carried input taken');
});

test('a record the area cannot take leaves the carried input for the next call', () => {
  const t = new HandleTable({ maxConnections: 2, listeners: 0 });
  const a = t.add(10 as Fd, Kind.Conn);
  const io = new IoBatch(t, kernelWith(new Map([[10, 'later']])));
  const carried = new Map([[a, Buffer.from('first')]]);
  const mem = new ArrayBuffer(1024);
  const w = records(mem, [
    [a, 0, AREA_LEN + 1],
    [a, 0, 0],
  ]);
  assert.is(io.run(mem, 0, 2, AREA, AREA_LEN, false, carried), 0);
  assert.equal([w[3], w[7]], [-Errno.EINVAL, -Errno.EINVAL], 'longer than the area, or empty');
  assert.is(carried.get(a)?.toString(), 'first');
  records(mem, [
    [a, 0, 3],
    [a, 0, 8],
  ]);
  assert.is(io.run(mem, 0, 2, AREA, AREA_LEN, false, carried), 0);
  assert.equal([w[3], w[7]], [3, 2], 'the carried bytes, in two records');
  assert.is(text(mem, AREA, 5), 'first');
  records(mem, [[a, 0, 8]]);
  assert.is(io.run(mem, 0, 1, AREA, AREA_LEN, false, carried), 0);
  assert.is(w[3], 5, 'then the socket');
  assert.is(text(mem, AREA, 5), 'later');
});

test('after memory.grow, records in the new pages are read from the new buffer', () => {
  const t = new HandleTable({ maxConnections: 2, listeners: 0 });
  const a = t.add(10 as Fd, Kind.Conn);
  const io = new IoBatch(t, kernelWith(new Map()));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const PAGE = 65536;
  const first = records(memory.buffer, [[a, 600, 8]]);
  assert.is(io.run(memory.buffer, 0, 1, 0, 0, true), 0);
  assert.is(first[3], 3, 'sent before growing: the view is made');
  memory.grow(1); // detaches the buffer the batch has seen
  for (const n of [1, 2]) {
    const w = new Int32Array(memory.buffer, PAGE, 8);
    w.set([a, PAGE + 600, 8, 0x7777, a, PAGE + 700, 5, 0x7777]);
    assert.is(io.run(memory.buffer, PAGE, n, 0, 0, true), 0);
    assert.equal(
      [...w.subarray(0, 4 * n)].filter((_, i) => i % 4 === 3),
      n === 1 ? [3] : [3, 3],
    );
  }
});

test.run();
