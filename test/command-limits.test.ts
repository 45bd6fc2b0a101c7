/**
 * Limits that hold for WASI commands as for guests: `-W max-memory-size` and
 * `-W max-table-elements` cap what a command can grow, and a limit's name is looked up among
 * wasmloop's own names only (never Object.prototype's).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { checkLimits } from '../host/limits.ts';
import { WasmloopError } from '../host/errors.ts';
import { runCommand } from './helpers/net-spawn.ts';
import { watBytes, type WatFeature } from './helpers/wat.ts';

const test = suite('command limits');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'wasmloop-cmd-limits-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A command whose exit status says whether its grow succeeded: 1 grown, 0 refused (-1). */
function grower(name: string, grow: string, features: WatFeature[] = ['MVP']): string {
  const bytes = watBytes(
    `(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (table 1 funcref)
    (func (export "_start")
      (if (i32.eq (${grow}) (i32.const -1)) (then (call $exit (i32.const 0))))
      (call $exit (i32.const 1))))`,
    features,
  );
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

const run = (args: string[]) =>
  runCommand(process.execPath, ['bin/wasmloop.js', 'run', ...args], { cwd: ROOT });

test('a WASI command cannot grow its memory past -W max-memory-size', async () => {
  const wasm = grower('mem.wasm', 'memory.grow (i32.const 31)'); // to 2 MiB
  assert.is((await run([wasm])).code, 1, 'grown under the default cap');
  const capped = await run(['-W', 'max-memory-size=1048576', wasm]);
  assert.is(capped.code, 0, `refused under a 1 MiB cap; stderr: ${capped.stderr}`);
});

test('a WASI command cannot grow its tables past -W max-table-elements', async () => {
  const features: WatFeature[] = ['MVP', 'ReferenceTypes', 'BulkMemory'];
  const wasm = grower('table.wasm', 'table.grow 0 (ref.null func) (i32.const 100000)', features);
  assert.is(
    (await run(['-W', 'max-table-elements=200000', wasm])).code,
    1,
    'grown under a larger cap',
  );
  const capped = await run(['-W', 'max-table-elements=1000', wasm]);
  assert.is(capped.code, 0, `refused under a cap of 1000; stderr: ${capped.stderr}`);
});

test('limit names inherited from Object.prototype are unknown limits', async () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    assert.throws(
      () => checkLimits(JSON.parse(`{"${name}": 1}`) as Record<string, number>),
      (err: unknown) => err instanceof WasmloopError && err.code === 'ERR_WASMLOOP_LIMIT',
      name,
    );
  }
  const r = await run(['-W', 'constructor=1', 'wasm/echo.wasm', '--tcplisten', '127.0.0.1:0']);
  assert.is(r.code, 64, `-W constructor=1 is a usage error; stderr: ${r.stderr}`);
  assert.match(r.stderr, /unknown limit 'constructor'/);
});

test.run();
