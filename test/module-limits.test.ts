/**
 * What a guest can grow, and what a module must be to be loaded at all, with hostile modules
 * assembled byte by byte (test/helpers/wasm-asm.ts): table.grow stops at max-table-elements
 * summed over every table, an initial size above the caps is refused at load, imported
 * tables and memories are refused, a precompiled WebAssembly.Module is accepted only when
 * wasmloop capped it at or below the limits in force, and the cap parser never throws
 * anything but a WasmloopError.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import {
  compileGuest,
  createLoop,
  WasmloopError,
  type CreateLoopOptions,
  type WasmLoop,
} from '../host/index.ts';
import { capGuest } from '../host/memory-limit.ts';
import {
  EXTERNREF,
  FUNCREF,
  guestModule,
  op,
  recordResult,
  STAT_ORDER,
  type Import,
} from './helpers/wasm-asm.ts';
import { settledStats } from './helpers/net-loop.ts';
import { closeAllClients, RawClient } from './helpers/net-tcp.ts';

const test = suite('module-limits');
const loops: WasmLoop[] = [];

test.after.each(async () => {
  closeAllClients();
  await Promise.all(loops.splice(0).map((l) => l.close({ graceMs: 0 })));
});

const listen = [{ host: '127.0.0.1', port: 0 }];
const quiet = { onTrap: () => {} };

async function start(
  module: CreateLoopOptions['module'],
  extra: Partial<CreateLoopOptions> = {},
): Promise<WasmLoop> {
  const loop = await createLoop({ module, listen, ...quiet, ...extra });
  loops.push(loop);
  return loop;
}

/** The results wl_init recorded with recordResult, in order (-1 for a failed grow). */
async function results(loop: WasmLoop, n: number): Promise<number[]> {
  const s = await settledStats(loop); // a worker publishes its counters every 50 ms
  return STAT_ORDER.slice(0, n).map((name) => s[name] - 1);
}

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  try {
    const loop = await promise;
    if (loop && typeof loop === 'object' && 'close' in loop) loops.push(loop as WasmLoop);
  } catch (err) {
    assert.instance(err, WasmloopError, `a WasmloopError, not ${String(err)}`);
    assert.is((err as WasmloopError).code, code, (err as Error).message);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const growTable = (table: number, type: number, n: number) => [
  ...op.refNull(type),
  ...op.i32(n),
  ...op.tableGrow(table),
];

test('table.grow past max-table-elements returns -1 in the guest, summed over tables with no maximum', async () => {
  const loop = await start(
    guestModule({
      tables: [{ min: 10 }, { min: 0, type: EXTERNREF, export: 'ext' }, { min: 5, max: 100000 }],
      init: [
        ...recordResult(0, growTable(0, FUNCREF, 985)), // up to the cap of 1000 in all: 10 + 985 + 5
        ...recordResult(1, growTable(0, FUNCREF, 1)),
        ...recordResult(2, growTable(1, EXTERNREF, 1)),
        ...recordResult(3, growTable(2, FUNCREF, 1)),
      ],
    }),
    { limits: { 'max-table-elements': 1000 } },
  );
  assert.equal(await results(loop, 4), [10, -1, -1, -1]);
});

test('the room under max-table-elements goes to the tables in order, up to each declared maximum', async () => {
  const loop = await start(
    guestModule({
      tables: [{ min: 1, max: 11 }, { min: 0, type: EXTERNREF }, { min: 0 }],
      init: [
        ...recordResult(0, growTable(0, FUNCREF, 11)), // past its own maximum
        ...recordResult(1, growTable(0, FUNCREF, 10)),
        ...recordResult(2, growTable(1, EXTERNREF, 80)),
        ...recordResult(3, growTable(2, FUNCREF, 10)), // table 1, declared first, took the other 89
        ...recordResult(4, growTable(1, EXTERNREF, 10)),
        ...recordResult(5, growTable(2, FUNCREF, 1)),
      ],
    }),
    { limits: { 'max-table-elements': 100 } },
  );
  assert.equal(await results(loop, 6), [-1, 1, 0, -1, -1, -1]);
});

test('growing tables by millions of entries under the default cap leaves the host memory flat', async () => {
  const init: number[] = [];
  for (let i = 0; i < 4; i++)
    init.push(...recordResult(i, growTable(i % 2, i % 2 ? EXTERNREF : FUNCREF, 2_000_000)));
  const before = process.memoryUsage().rss;
  const loop = await start(
    guestModule({ tables: [{ min: 0 }, { min: 0, type: EXTERNREF }], init }),
  );
  const grown = process.memoryUsage().rss - before;
  // Unbounded, the 8 million entries cost the host ~260 MB (33 bytes each).
  assert.ok(grown < 64 << 20, `RSS grew by ${grown} bytes`);
  assert.equal(await results(loop, 4), [-1, -1, -1, -1]);
});

test('an initial table size above max-table-elements is refused at load, one table or the sum', async () => {
  await refused(
    start(guestModule({ tables: [{ min: 65537 }] })),
    'ERR_WASMLOOP_MEMORY',
    /needs 65537 table elements at start; max-table-elements is 65536/,
  );
  await refused(
    start(guestModule({ tables: [{ min: 60 }, { min: 50, type: EXTERNREF }] }), {
      limits: { 'max-table-elements': 100 },
    }),
    'ERR_WASMLOOP_MEMORY',
    /needs 110 table elements/,
  );
});

test('an initial memory above max-memory-size is refused at load', async () => {
  await refused(
    start(guestModule({ memory: { min: 17 } }), { limits: { 'max-memory-size': 1 << 20 } }),
    'ERR_WASMLOOP_MEMORY',
    /needs 1114112 bytes of memory at start/,
  );
});

const imports: [string, Import][] = [
  [
    'a table named like a hostcall',
    { module: 'wasmloop', name: 'recv', kind: 1, desc: [FUNCREF, 0x00, 0] },
  ],
  [
    'a memory from WASI',
    { module: 'wasi_snapshot_preview1', name: 'memory', kind: 2, desc: [0x00, 1] },
  ],
  [
    'a global named like an env import',
    { module: 'env', name: 'seed', kind: 3, desc: [0x7f, 0x00] },
  ],
];
for (const [what, imp] of imports) {
  test(`a guest importing ${what} is refused before it runs`, async () => {
    await refused(
      start(guestModule({ imports: [imp] })),
      'ERR_WASMLOOP_IMPORT',
      /may import only functions/,
    );
  });
}

const growMemory = (pages: number) => [...op.i32(pages), ...op.memoryGrow];

test('a precompiled module wasmloop did not cap is refused, whatever its limits', async () => {
  const foreign = await WebAssembly.compile(
    guestModule({ init: recordResult(0, growMemory(1000)) }),
  );
  await refused(
    start(foreign, { limits: { 'max-memory-size': 1 << 20 } }),
    'ERR_WASMLOOP_MEMORY',
    /compileGuest.*bytes or a path|bytes or a path.*compileGuest/,
  );
  await refused(start(foreign), 'ERR_WASMLOOP_MEMORY', /not compiled by wasmloop/);
});

test('compileGuest: the cap holds in createLoop; a module capped above the limits in force is refused', async () => {
  const bytes = guestModule({
    init: [...recordResult(0, growMemory(15)), ...recordResult(1, growMemory(1))],
  });
  const capped = await compileGuest(bytes, { limits: { 'max-memory-size': 1 << 20 } });
  const loop = await start(capped, { limits: { 'max-memory-size': 2 << 20 } });
  assert.equal(await results(loop, 2), [1, -1], 'grown to 1 MiB, not past it');
  await refused(
    start(capped, { limits: { 'max-memory-size': 512 << 10 } }),
    'ERR_WASMLOOP_MEMORY',
    /capped at 1048576 bytes.*above the limits in force/,
  );
  // Compiled under the defaults (256 MiB), it is refused under a lower cap, accepted under them.
  const loose = await compileGuest(bytes);
  await refused(
    start(loose, { limits: { 'max-memory-size': 2 << 20 } }),
    'ERR_WASMLOOP_MEMORY',
    /capped at 268435456 bytes/,
  );
  assert.equal(await results(await start(loose), 2), [1, 16]);
});

test('compileGuest with default limits: accepted by createLoop, on the main thread and in workers', async () => {
  const echo = await compileGuest(readFileSync('wasm/echo.wasm'));
  for (const workers of [0, 1]) {
    const loop = await start(echo, { workers });
    const c = await RawClient.connect(loop.address().port);
    await c.write('precompiled\n');
    assert.is((await c.read(12)).toString(), 'precompiled\n');
    c.destroy();
  }
});

test('compileGuest checks its limits and reports unreadable modules as not wasm', async () => {
  await refused(
    compileGuest(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 9])),
    'ERR_WASMLOOP_NOT_WASM',
    /not a valid WebAssembly module/,
  );
  await refused(
    compileGuest(readFileSync('wasm/echo.wasm'), { limits: { 'max-table-elements': -1 } }),
    'ERR_WASMLOOP_LIMIT',
    /max-table-elements/,
  );
});

test('capGuest on truncated and corrupted modules throws only WasmloopError', () => {
  const good = guestModule({
    tables: [{ min: 3 }, { min: 1, max: 9, type: EXTERNREF }],
    memory: { min: 1, max: 4 },
  });
  const caps = { maxMemoryBytes: 1 << 20, maxTableElements: 100 };
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  const inputs: Uint8Array[] = [];
  for (let n = 0; n <= good.length; n++) inputs.push(good.subarray(0, n));
  for (let i = 0; i < 2000; i++) {
    const bad = good.slice();
    for (let k = 0; k < 3; k++) bad[8 + ((random() * 7919 + i) % (bad.length - 8))] = random();
    inputs.push(bad);
  }
  for (const input of inputs) {
    try {
      capGuest(input, caps);
    } catch (err) {
      assert.instance(
        err,
        WasmloopError,
        `${String(err)} for ${Buffer.from(input).toString('hex')}`,
      );
    }
  }
});

test.run();
