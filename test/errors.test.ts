/**
 * WasmloopError codes: one documented list (host/errors.ts), the thrown codes inside it, and
 * the worker boundary, where codes travel as plain strings, admitting only listed codes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODE_TO_EXIT } from '../host/cli.ts';
import { isWasmloopErrorCode, WASMLOOP_ERROR_CODES, WasmloopError } from '../host/errors.ts';
import { fromWorkerError, toWorkerError } from '../host/driver/worker-protocol.ts';

// Compile-time checks (`npx tsc --noEmit` fails if the types stop refusing these):
// @ts-expect-error a code outside the documented union is refused
void new WasmloopError('ERR_WASMLOOP_UNDOCUMENTED', 'x');
// @ts-expect-error the exit table must name every code
void ((t: typeof CODE_TO_EXIT = { ERR_WASMLOOP_USAGE: 64 }) => t);

function codesInHostSources(): Set<string> {
  const codes = new Set<string>();
  for (const f of readdirSync('host', { recursive: true, encoding: 'utf8' }).filter((n) =>
    n.endsWith('.ts'),
  )) {
    if (f === 'errors.ts') continue; // the list itself
    for (const m of readFileSync(`host/${f}`, 'utf8').matchAll(/'(ERR_WASMLOOP_[A-Z_]+)'/g))
      codes.add(m[1]!);
  }
  return codes;
}

test('the documented codes are exactly the codes the host throws, each with an exit status', () => {
  assert.equal([...codesInHostSources()].sort(), [...WASMLOOP_ERROR_CODES].sort());
  assert.equal(Object.keys(CODE_TO_EXIT).sort(), [...WASMLOOP_ERROR_CODES].sort());
  for (const code of WASMLOOP_ERROR_CODES)
    assert.ok(CODE_TO_EXIT[code] > 1, `${code}: ${CODE_TO_EXIT[code]}`);
});

test('isWasmloopErrorCode admits only listed strings', () => {
  for (const code of WASMLOOP_ERROR_CODES) assert.ok(isWasmloopErrorCode(code), code);
  for (const bad of [
    'ENOENT',
    '',
    'err_wasmloop_usage',
    'ERR_WASMLOOP_',
    'toString',
    'constructor',
    7,
    null,
    undefined,
  ]) {
    assert.not.ok(isWasmloopErrorCode(bad), String(bad));
  }
});

test('worker boundary: a listed code crosses unchanged, any other string becomes ERR_WASMLOOP_WORKER', () => {
  const listen = fromWorkerError(toWorkerError(new WasmloopError('ERR_WASMLOOP_LISTEN', 'in use')));
  assert.ok(listen instanceof WasmloopError);
  assert.is(listen.code, 'ERR_WASMLOOP_LISTEN');
  assert.is(listen.message, 'in use');
  const nodeError = Object.assign(new Error('no such file'), { code: 'ENOENT' });
  assert.equal(toWorkerError(nodeError), { code: 'ERR_WASMLOOP_WORKER', message: 'no such file' });
  assert.equal(toWorkerError('thrown string'), {
    code: 'ERR_WASMLOOP_WORKER',
    message: 'thrown string',
  });
  // What a worker that lies (or an older worker) might post: the pool does not trust the string.
  for (const code of ['ENOENT', '__proto__', 'ERR_WASMLOOP_NOPE']) {
    const e = fromWorkerError({ code, message: 'm' });
    assert.is(e.code, 'ERR_WASMLOOP_WORKER', code);
    assert.is(CODE_TO_EXIT[e.code], 70);
  }
});

test.run();
