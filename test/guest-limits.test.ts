/**
 * Guests declare the limits they read (custom section `wasmloop.limits`, docs/ABI.md "Limits"):
 * the `limit` hostcall answers a declared limit's default when none is given; the host refuses
 * a name the module does not take (listing the ones it does) and a value outside the declared
 * range; a module that declares nothing still takes every name the shipped guests read; and
 * `wasmloop limits MODULE` prints each module's own set. wasm/test/declarer.wasm is the
 * hoarder (whose limit_of makes one `limit` call) declaring `probe-ms`, default 1234, [10, 100000].
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { main } from '../host/cli.ts';
import { WasmloopError } from '../host/errors.ts';
import { createLoop } from '../host/index.ts';
import { checkLimits, declaredLimits, limitsOf } from '../host/limits.ts';
import { hoarder, type HoarderExports } from './helpers/hoarder.ts';
import { simLoop } from './helpers/sim.ts';

const test = suite('guest limits');
const moduleOf = (name: string) =>
  new WebAssembly.Module(readFileSync(new URL(`../wasm/${name}.wasm`, import.meta.url)));

/** Asks the guest for the limit `name` through the `limit` hostcall. */
function limitOf(g: HoarderExports, name: string): number {
  const bytes = Buffer.from(name);
  new Uint8Array(g.memory.buffer, g.scratch(), bytes.length).set(bytes);
  return g.limit_of(bytes.length);
}

test('a declared limit reaches the guest at its declared default, or at the value given', async () => {
  assert.is(limitOf(hoarder(await simLoop('test/declarer')), 'probe-ms'), 1234, 'default');
  assert.is(
    limitOf(hoarder(await simLoop('test/declarer', { limits: { 'probe-ms': 50 } })), 'probe-ms'),
    50,
    'given',
  );
  // Memory capped: the module is rewritten at load, and its declaration must survive that.
  const capped = await simLoop('test/declarer', { limits: { 'max-memory-size': 8 << 20 } });
  assert.is(limitOf(hoarder(capped), 'probe-ms'), 1234, 'default, memory capped');
  assert.is(
    limitOf(hoarder(await simLoop('test/hoarder')), 'probe-ms'),
    -1,
    'undeclared: no default',
  );
});

/** The ERR_WASMLOOP_LIMIT message of `fn`, or fails. */
function limitError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, WasmloopError);
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_LIMIT');
    return (err as Error).message;
  }
  assert.unreachable('accepted');
  return '';
}

test('-W of a name the module does not declare is refused, naming the ones it takes', () => {
  const message = limitError(() => checkLimits({ 'max-frame-bytes': 10 }, moduleOf('echo')));
  assert.match(message, "unknown limit 'max-frame-bytes'");
  assert.match(message, 'idle-timeout-ms');
  assert.not.match(message, 'max-body-bytes');
  checkLimits({ 'max-frame-bytes': 10, 'idle-timeout-ms': 5 }, moduleOf('frame'));
  limitError(() => checkLimits({ 'max-body-bytes': 10 }, moduleOf('hello')));
  checkLimits({ 'max-body-bytes': 10 }, moduleOf('inspect'));
});

test('a module that declares nothing takes the generic limits and every name shipped guests read', () => {
  const m = moduleOf('test/hoarder');
  assert.is(declaredLimits(m), undefined);
  checkLimits(
    { 'max-frame-bytes': 10, 'max-body-bytes': 1, 'header-timeout-ms': 1, 'max-connections': 3 },
    m,
  );
  limitError(() => checkLimits({ 'probe-ms': 50 }, m));
});

test('a value outside the declared range is refused', () => {
  const m = moduleOf('test/declarer');
  checkLimits({ 'probe-ms': 10 }, m);
  checkLimits({ 'probe-ms': 100000 }, m);
  assert.match(
    limitError(() => checkLimits({ 'probe-ms': 9 }, m)),
    '[10, 100000]',
  );
  limitError(() => checkLimits({ 'probe-ms': 100001 }, m));
});

test('createLoop refuses an undeclared limit', async () => {
  const loop = await createLoop({
    module: 'wasm/echo.wasm',
    listen: [{ host: '127.0.0.1', port: 0 }],
    limits: { 'max-body-bytes': 1 },
  }).catch((err: unknown) => err as WasmloopError);
  if (!(loop instanceof Error)) await loop.close({ graceMs: 0 });
  assert.is((loop as WasmloopError).code, 'ERR_WASMLOOP_LIMIT', 'refused');
});

/** What `wasmloop ARGS` prints on stdout, and its exit status. */
async function cli(args: string[]): Promise<[number, string]> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    return [await main(args), out];
  } finally {
    process.stdout.write = write;
  }
}

test("`wasmloop limits MODULE` prints that module's limits: hello and inspect differ", async () => {
  const [helloStatus, hello] = await cli(['limits', 'wasm/hello.wasm']);
  const [inspectStatus, inspect] = await cli(['limits', 'wasm/inspect.wasm']);
  assert.is(helloStatus, 0);
  assert.is(inspectStatus, 0);
  for (const text of [hello, inspect]) assert.match(text, 'header-timeout-ms=10000');
  assert.not.match(hello, 'max-body-bytes');
  assert.match(inspect, 'max-body-bytes=9007199254740991');
  assert.not.match((await cli(['--help']))[1], 'max-body-bytes');
  assert.equal(
    Object.keys(limitsOf(moduleOf('hello')).specs).sort(),
    hello
      .match(/^ {4}([a-z-]+)=/gm)!
      .map((l) => l.trim().slice(0, -1))
      .sort(),
  );
});

test.run();
