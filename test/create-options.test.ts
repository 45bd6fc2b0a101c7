/**
 * createLoop's options are checked before anything is opened: a wrong type or value is a
 * WasmloopError with a code (never a raw TypeError, never a silently disabled watchdog), and
 * a createLoop that fails leaves no socket bound. Every error code has a documented CLI exit
 * status.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CODE_TO_EXIT, HELP } from '../host/cli.ts';
import { createLoop, WasmloopError, type CreateLoopOptions } from '../host/index.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { runCommand } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient } from './helpers/net-tcp.ts';

const test = suite('create-options');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

async function codeOf(options: unknown): Promise<string> {
  try {
    const loop = await createLoop(options as CreateLoopOptions);
    await loop.close({ graceMs: 0 });
    return 'accepted';
  } catch (err) {
    if (!(err instanceof WasmloopError))
      return `raw ${(err as Error).name}: ${(err as Error).message}`;
    return err.code;
  }
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when 127.0.0.1:port can be bound (nothing of ours holds it). */
async function bindable(port: number): Promise<boolean> {
  const s = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

const MODULE = 'wasm/echo.wasm';
const LISTEN = [{ port: 0 }];

test('wrongly typed options are WasmloopError with a code, not raw TypeError/RangeError', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['no options', undefined, 'ERR_WASMLOOP_USAGE'],
    ['null', null, 'ERR_WASMLOOP_USAGE'],
    ['module: 123', { module: 123, listen: LISTEN }, 'ERR_WASMLOOP_USAGE'],
    ['module missing', { listen: LISTEN }, 'ERR_WASMLOOP_USAGE'],
    ['listen: [null]', { module: MODULE, listen: [null] }, 'ERR_WASMLOOP_USAGE'],
    ['listen not an array', { module: MODULE, listen: { port: 0 } }, 'ERR_WASMLOOP_ADDRESS'],
    ["port: '0'", { module: MODULE, listen: [{ port: '0' }] }, 'ERR_WASMLOOP_ADDRESS'],
    ['host: 7', { module: MODULE, listen: [{ host: 7, port: 0 }] }, 'ERR_WASMLOOP_USAGE'],
    ['backlog: -1', { module: MODULE, listen: [{ port: 0, backlog: -1 }] }, 'ERR_WASMLOOP_USAGE'],
    ['args: [1]', { module: MODULE, listen: LISTEN, args: [1] }, 'ERR_WASMLOOP_USAGE'],
    ['env: { A: 1 }', { module: MODULE, listen: LISTEN, env: { A: 1 } }, 'ERR_WASMLOOP_USAGE'],
    ['limits: 5', { module: MODULE, listen: LISTEN, limits: 5 }, 'ERR_WASMLOOP_USAGE'],
    ['signal: {}', { module: MODULE, listen: LISTEN, signal: {} }, 'ERR_WASMLOOP_USAGE'],
    ["onTrap: 'x'", { module: MODULE, listen: LISTEN, onTrap: 'x' }, 'ERR_WASMLOOP_USAGE'],
  ];
  for (const [what, options, code] of cases) assert.is(await codeOf(options), code, what);
});

test('watchdogMs and maxRestarts that would turn the watchdog or the budget off are refused', async () => {
  for (const watchdogMs of [-5, 'abc', 1.5, Infinity, NaN, 2 ** 31]) {
    assert.is(
      await codeOf({ module: MODULE, listen: LISTEN, watchdogMs }),
      'ERR_WASMLOOP_USAGE',
      `watchdogMs ${String(watchdogMs)}`,
    );
  }
  for (const maxRestarts of [-1, 'abc', 0.5]) {
    assert.is(
      await codeOf({ module: MODULE, listen: LISTEN, maxRestarts }),
      'ERR_WASMLOOP_USAGE',
      `maxRestarts ${String(maxRestarts)}`,
    );
  }
  // The calling thread has no watchdog: asking for one there is an error, not a no-op.
  assert.is(
    await codeOf({ module: MODULE, listen: LISTEN, workers: 0, watchdogMs: 1000 }),
    'ERR_WASMLOOP_USAGE',
  );
  assert.is(
    await codeOf({ module: MODULE, listen: LISTEN, workers: 0, watchdogMs: 0 }),
    'accepted',
  );
});

test('a createLoop that fails leaves its port free: bad driver, a start-up that runs away', async () => {
  const port = await freePort();
  assert.is(
    await codeOf({ module: MODULE, listen: [{ port }], driver: 'bogus' }),
    'ERR_WASMLOOP_USAGE',
  );
  assert.ok(await bindable(port), 'the port is free after driver: bogus');
  assert.is(
    await codeOf({ module: MODULE, listen: [{ port }], workers: 0, driver: 'bogus' }),
    'ERR_WASMLOOP_USAGE',
  );
  assert.ok(await bindable(port), 'the port is free after workers: 0, driver: bogus');
  assert.is(
    await codeOf({
      module: 'wasm/test/spin-init.wasm',
      listen: [{ port }],
      workers: 2,
      watchdogMs: 300,
    }),
    'ERR_WASMLOOP_INIT',
  );
  assert.ok(await bindable(port), 'the port is free after a pool of 2 failed to start');
});

test('workers with max-connections 1e12: the pool starts (its fd registry is capped as the guest caps the table)', async () => {
  const { loop, port } = await startLoop(MODULE, {
    workers: 2,
    limits: { 'max-connections': 1e12 },
  });
  const c = await RawClient.connect(port);
  await c.write('hi\n');
  assert.is((await c.read(3)).toString(), 'hi\n');
  c.sock.destroy();
  await loop.close({ graceMs: 0 });
  assert.ok(await bindable(port), 'the port is free after close');
});

test('every WasmloopError code the host uses has a CLI exit status listed in --help and README', () => {
  const codes = new Set<string>();
  for (const f of readdirSync('host', { recursive: true, encoding: 'utf8' }).filter((n) =>
    n.endsWith('.ts'),
  )) {
    for (const m of readFileSync(`host/${f}`, 'utf8').matchAll(/'(ERR_WASMLOOP_[A-Z_]+)'/g))
      codes.add(m[1]!);
  }
  assert.ok(codes.size >= 15, `found ${codes.size} codes`);
  const readme = readFileSync('README.md', 'utf8');
  const exitHelp = HELP.slice(HELP.indexOf('Exit status:'));
  for (const code of codes) {
    const status = (CODE_TO_EXIT as Record<string, number>)[code];
    assert.ok(status !== undefined, `${code} has no exit status in CODE_TO_EXIT`);
    assert.match(
      exitHelp,
      new RegExp(`\\b${status} `),
      `exit ${status} (${code}) is not in --help`,
    );
    assert.match(readme, new RegExp(`\\b${status} `), `exit ${status} (${code}) is not in README`);
  }
});

test('CLI: --watchdog-ms with --workers 0, too many workers, a negative or non-numeric watchdog: status 64', async () => {
  const cases = [
    ['--workers', '0', '--watchdog-ms', '1000'],
    ['--workers', '257'],
    ['--watchdog-ms=-5'],
    ['--watchdog-ms', 'abc'],
    ['--max-restarts', '-1'],
  ];
  for (const extra of cases) {
    const r = await runCommand(
      process.execPath,
      ['bin/wasmloop.js', 'run', MODULE, '--tcplisten', '127.0.0.1:0', ...extra],
      { cwd: ROOT },
    );
    assert.is(r.code, 64, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^wasmloop: .*--(watchdog-ms|workers|max-restarts)/, extra.join(' '));
  }
});

test.run();
