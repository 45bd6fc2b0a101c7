/**
 * What the host's hot path relies on in the native kernel:
 * - the shim's descriptor array for recvMany/sendMany (host/native/io-fds.c, contract.ts
 *   `ioDescriptors`): one per thread, in memory the shim owns, read for the first n records
 *   only; the memory it is called with is checked on every call, as before it had the array;
 * - the object loadNative returns has V8's fast properties (host/kernel/native.ts).
 * Run: npx tsx node_modules/uvu/bin.js test native-hot-path
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { IO_MANY_MAX } from '../host/abi.ts';
import { Errno } from '../host/errno.ts';
import { loadNative } from '../host/kernel/native.ts';
import { raw } from './helpers/raw-kernel.ts';

const k = raw(loadNative());
const PAGE = 65536;

test('an Int32Array of IO_MANY_MAX entries; a worker thread has an array of its own', async () => {
  assert.instance(k.ioDescriptors, Int32Array);
  assert.is(k.ioDescriptors.length, IO_MANY_MAX);
  k.ioDescriptors[0] = 7;
  const addon = fileURLToPath(new URL('../build/Release/wasmloop.node', import.meta.url));
  const code = `
    const { parentPort } = require('node:worker_threads');
    const k = require(${JSON.stringify(addon)});
    const first = k.ioDescriptors[0];
    k.ioDescriptors[0] = 99;
    parentPort.postMessage(first);`;
  const w = new Worker(code, { eval: true });
  const seen = await new Promise((r, j) => {
    w.once('message', r);
    w.once('error', j);
  });
  await w.terminate();
  assert.is(seen, 0, "the worker's array starts empty");
  assert.is(k.ioDescriptors[0], 7, "and writing it leaves this thread's alone");
});

test('only the first n entries are read, against the memory of this call (grown or not)', () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const old = memory.buffer;
  memory.grow(1); // `old` is detached: length 0
  const words = new Int32Array(memory.buffer, PAGE, 8);
  words.set([0, PAGE + 64, 8, 0x7777, 0, PAGE + 64, 8, 0x7777]);
  k.ioDescriptors.set([-Errno.EBADF, -Errno.ENOTCONN]);
  assert.is(k.sendMany(old, PAGE, 1), -Errno.EFAULT, 'the detached buffer: nothing done');
  assert.is(words[3], 0x7777);
  assert.is(k.sendMany(memory.buffer, PAGE, 1), 0);
  assert.equal([words[3], words[7]], [-Errno.EBADF, 0x7777], 'one record: entry 0 only');
  assert.is(k.recvMany(memory.buffer, PAGE, 2, 0, 0), 0);
  assert.equal([words[3], words[7]], [-Errno.EBADF, -Errno.ENOTCONN]);
});

test('loadNative returns an object with fast properties, whatever mode the addon is in', () => {
  // %-natives are parsed by V8 (new Function), not by tsx's transform. The addon's own mode
  // depends on its property count (29 exports: a dictionary; 30: fast, with Node 20), so only
  // loadNative's object is asserted; the addon's is printed for the record.
  const script = `import { createRequire } from 'node:module';
import { loadNative } from './host/kernel/native.ts';
const fast = new Function('o', 'return %HasFastProperties(o)');
const addon = createRequire(import.meta.url)('./build/Release/wasmloop.node');
console.log(JSON.stringify([fast(loadNative()), fast(addon)]));`;
  const r = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.is(r.status, 0, r.stderr);
  const [copy, addon] = JSON.parse(r.stdout) as [boolean, boolean];
  assert.ok(copy, `loadNative's object is in dictionary mode (the addon's fast: ${addon})`);
});

test.run();
