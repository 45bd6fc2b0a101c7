/**
 * Modules that are not wasmloop guests are refused by createLoop before running: a missing
 * file, a file that is not wasm, a module without wl_abi_version_1, one of another version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { createLoop, WasmloopError } from '../host/index.ts';
import { WASM_HEADER } from './helpers/wasm-asm.ts';

const test = suite('sandbox: module checks');

const tmp = mkdtempSync(join(tmpdir(), 'wasmloop-sandbox-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<WasmloopError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, WasmloopError, 'createLoop should have rejected with a WasmloopError');
  return err as WasmloopError;
}

const listen = [{ host: '127.0.0.1', port: 0 }];

test('module checks: a missing file is ERR_WASMLOOP_MODULE_READ', async () => {
  const err = await rejection(createLoop({ module: join(tmp, 'no-such.wasm'), listen }));
  assert.is(err.code, 'ERR_WASMLOOP_MODULE_READ');
});

test('module checks: a file that is not wasm is ERR_WASMLOOP_NOT_WASM', async () => {
  const file = join(tmp, 'not.wasm');
  writeFileSync(file, 'this is not WebAssembly\n');
  const err = await rejection(createLoop({ module: file, listen }));
  assert.is(err.code, 'ERR_WASMLOOP_NOT_WASM');
});

test('module checks: an empty wasm module is ERR_WASMLOOP_ABI (no wl_abi_version_1)', async () => {
  const err = await rejection(
    createLoop({ module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), listen }),
  );
  assert.is(err.code, 'ERR_WASMLOOP_ABI');
  assert.match(err.message, 'wl_abi_version_1');
});

test('module checks: a module exporting wl_abi_version_2 is refused, naming both versions', async () => {
  const name = [...Buffer.from('wl_abi_version_2')];
  const bytes = new Uint8Array([
    ...WASM_HEADER,
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00, // type section: one type, () -> ()
    0x03,
    0x02,
    0x01,
    0x00, // function section: one function of type 0
    0x07,
    2 + name.length + 2,
    0x01,
    name.length,
    ...name,
    0x00,
    0x00, // export section: func 0
    0x0a,
    0x04,
    0x01,
    0x02,
    0x00,
    0x0b, // code section: an empty body
  ]);
  assert.ok(WebAssembly.validate(bytes), 'the hand-assembled module is valid');
  const err = await rejection(createLoop({ module: bytes, listen }));
  assert.is(err.code, 'ERR_WASMLOOP_ABI');
  assert.match(err.message, 'v2');
  assert.match(err.message, 'v1');
});

test.run();
