/**
 * The sandbox, end to end over real sockets, with wasm/test/evil.wasm (test/guests/evil.ts):
 * hostcalls with foreign handles and wild pointers fail with an errno and hurt no one, a trap
 * ends only that instance (whose connections are closed) and a fresh one takes over, the
 * restart budget ends the loop, and modules that are not guests are refused before running.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { createLoop, WasmloopError } from '../host/index.ts';
import { closeAllClients, RawClient, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { closeAllLoops, settledStats, startLoop, trapRecorder } from './helpers/net-loop.ts';

const test = suite('sandbox');

const EVIL = 'wasm/test/evil.wasm';
const tmp = mkdtempSync(join(tmpdir(), 'wasmloop-sandbox-'));

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Sends a command and returns the one-line reply as name -> number. */
async function command(c: RawClient, cmd: string): Promise<Record<string, number>> {
  await c.write(cmd + '\n');
  const line = (await c.readUntil('\n')).toString().trimEnd();
  const out: Record<string, number> = {};
  for (const part of line.split(' ')) {
    const m = /^(\w+)=(-?\d+)$/.exec(part);
    if (!m) throw new Error(`unexpected reply to ${cmd}: ${JSON.stringify(line)}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The connection still echoes (and so the instance is alive). */
async function echoes(c: RawClient, text = 'still here'): Promise<void> {
  await c.write(text + '\n');
  assert.is((await c.read(text.length + 1)).toString(), text + '\n', 'echo');
}

/** Resolves when the server has closed the connection, by FIN or reset. */
const closedByServer = (c: RawClient, what: string) =>
  c.until(() => c.ended || c.closed, `${what} to be closed`);

test('BADHANDLE: hostcalls on handles the guest does not own all fail with EBADF (-8)', async () => {
  const { loop, port } = await startLoop(EVIL);
  // evil.ts probes `shutdown(2, 1)`. Handle 2 is the first connection the instance accepts
  // (listener 0 is handle 1), so that first connection is opened and closed here: handle 2 is
  // then stale (its slot's generation moved on) and the probe connection gets another handle.
  const first = await RawClient.connect(port);
  await echoes(first, 'first');
  first.destroy();
  await waitFor(() => loop.stats().closed === 1, 'the first connection to be closed');
  const c = await RawClient.connect(port);
  const r = await command(c, 'BADHANDLE');
  assert.equal(r, {
    recv: -8,
    send: -8,
    zero: -8,
    negative: -8,
    close: -8,
    watch: -8,
    shutdown: -8,
  });
  await echoes(c);
});

/** Runs a probe command twice on one connection while another connection is served before,
 *  between and after: the probe's results each time, and both connections keep echoing. */
async function probeBesideBystander(cmd: string, expected: Record<string, number>): Promise<void> {
  const { port } = await startLoop(EVIL);
  const bystander = await RawClient.connect(port);
  await echoes(bystander, 'before');
  const c = await RawClient.connect(port);
  assert.equal(await command(c, cmd), expected);
  await echoes(bystander, 'during');
  await echoes(c);
  assert.equal(await command(c, cmd), expected, 'the same again');
  await echoes(bystander, 'after');
}

test('BADPTR: wild pointers give EFAULT, zero length and bad watch bits EINVAL; others keep being served', async () => {
  await probeBesideBystander('BADPTR', {
    recv: -21,
    send: -21,
    huge: -21,
    zero: -28,
    watchbits: -28,
  });
});

test('BATCH: recv_many/send_many check every record and the call; others keep being served', async () => {
  await probeBesideBystander('BATCH', {
    stale: -8,
    wild: -21,
    call: 0,
    outside: -21,
    misaligned: -28,
    many: -28,
    area: -21,
  });
});

test('LISTENER: connection calls on the listener fail, and it stays open', async () => {
  const { loop, port } = await startLoop(EVIL);
  const c = await RawClient.connect(port);
  const r = await command(c, 'LISTENER');
  assert.equal(r, { recv: -28, close: -63, missing: -44 });
  await echoes(c);
  const fresh = await RawClient.connect(port);
  await echoes(fresh, 'new client');
  assert.is((await settledStats(loop)).accepted, 2);
});

/** One reply line (without its newline). */
async function readLine(c: RawClient): Promise<string> {
  await c.until(() => c.pending().includes(10), 'a reply line');
  const line = c.pending().subarray(0, c.pending().indexOf(10)).toString();
  await c.read(line.length + 1);
  return line;
}

test('GROW: the host follows memory growth (1 MiB echo afterwards)', async () => {
  const { port } = await startLoop(EVIL);
  const c = await RawClient.connect(port);
  await c.write('GROW\n');
  assert.match(await readLine(c), /^grown \d+$/);
  const payload = Buffer.alloc(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
  await c.write(payload);
  const back = await c.read(payload.length, 10000);
  assert.ok(back.equals(payload), 'echo after GROW differs');
  await c.write('GROW\n');
  assert.match(await readLine(c), /^grown \d+$/, 'a second GROW');
  await echoes(c);
});

test('max-memory-size: memory.grow past the cap fails inside the guest; the host keeps serving', async () => {
  const { port } = await startLoop(EVIL, { limits: { 'max-memory-size': 8 << 20 } });
  const c = await RawClient.connect(port);
  const results: number[] = [];
  for (let i = 0; i < 12; i++) {
    await c.write('GROW\n');
    results.push(Number(/^grown (-?\d+)$/.exec(await readLine(c))![1]));
  }
  assert.ok(results[0]! > 0, 'the first megabyte fits');
  assert.is(results.at(-1), -1, 'growing past 8 MiB fails');
  assert.ok(results.filter((r) => r > 0).every((pages) => pages * 65536 < 8 << 20));
  await echoes(c);
});

test('TRAP: the trapping connection closes, an idle one moves to a fresh instance and is served on', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap });
  const bystander = await RawClient.connect(port);
  await echoes(bystander);
  const c = await RawClient.connect(port);
  await echoes(c);
  await c.write('TRAP\n');
  await closedByServer(c, 'the trapping connection');
  await waitFor(() => loop.stats().restarts === 1, 'restarts === 1');
  assert.is(rec.traps.length, 1);
  assert.match(rec.traps[0]!.message, /unreachable/);
  assert.is(rec.traps[0]!.code, 'ERR_WASMLOOP_TRAP');
  assert.is(rec.traps[0]!.restarting, true);
  await echoes(bystander, 'the same connection, served by the new instance');
  const fresh = await RawClient.connect(port);
  await echoes(fresh, 'served by the new instance');
  const s = await settledStats(loop);
  assert.is(s.restarts, 1);
  assert.is(s.open, 2, 'the bystander and the new connection');
  assert.is(
    s.accepted,
    3,
    'counters of the trapped instance are kept; a moved connection is not accepted twice',
  );
  assert.is(s.closed, 1, 'the trapping connection, closed by the host');
});

test('ABORT: the trap message carries the guest abort message', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap });
  const c = await RawClient.connect(port);
  await c.write('ABORT\n');
  await closedByServer(c, 'the aborting connection');
  await waitFor(() => loop.stats().restarts === 1, 'restarts === 1');
  assert.is(rec.traps.length, 1);
  assert.match(rec.traps[0]!.message, 'evil guest gave up');
  assert.match(rec.traps[0]!.message, 'evil.ts');
  await echoes(await RawClient.connect(port));
});

test('restart budget: with maxRestarts 2 the third trap in a row that no connection caused ends the loop', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap, maxRestarts: 2 });
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(port);
    await c.write('TICKTRAP\n');
    assert.is((await c.read(6)).toString(), 'armed\n');
    if (i < 2) await waitFor(() => loop.stats().restarts === i + 1, `restart ${i + 1}`);
    await echoes(c, `moved to instance ${i + 1}`);
  }
  const err = await withTimeout(
    loop.done.then(
      () => null,
      (e: unknown) => e,
    ),
    5000,
    'loop.done to settle',
  );
  assert.instance(err, WasmloopError);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_RESTARTS');
  assert.equal(
    rec.traps.map((t) => t.restarting),
    [true, true, false],
  );
  assert.is(loop.stats().restarts, 2);
  // The loop gave up: its listener is closed.
  const refused = await RawClient.connect(port).then(
    () => 'connected',
    (e: NodeJS.ErrnoException) => e.code,
  );
  assert.is(refused, 'ECONNREFUSED');
});

test('traps that a connection caused do not count toward the budget: 5 in a row with maxRestarts 2', async () => {
  const rec = trapRecorder();
  const { loop, port } = await startLoop(EVIL, { onTrap: rec.onTrap, maxRestarts: 2 });
  const bystander = await RawClient.connect(port);
  for (let i = 0; i < 5; i++) {
    const c = await RawClient.connect(port);
    await echoes(c, `instance ${i}`);
    await c.write('TRAP\n');
    await closedByServer(c, `trapping connection ${i}`);
    await waitFor(() => loop.stats().restarts === i + 1, `restart ${i + 1}`);
    await echoes(bystander, `bystander after trap ${i + 1}`);
  }
  assert.ok(rec.traps.every((t) => t.restarting));
  await echoes(await RawClient.connect(port), 'still serving');
});

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
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
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
