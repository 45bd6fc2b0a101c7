/**
 * The sandbox, end to end over real sockets, with wasm/test/evil.wasm (test/guests/evil.ts):
 * hostcalls with foreign handles and wild pointers fail with an errno and hurt no one, and the
 * host follows memory growth up to the cap. Traps and the restart budget:
 * test/sandbox-traps.test.ts; modules that are not guests: test/sandbox-modules.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';
import { closeAllLoops, settledStats, startLoop } from './helpers/net-loop.ts';
import { echoes, EVIL } from './helpers/evil-client.ts';

const test = suite('sandbox');

test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

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

test.run();
