/**
 * poll_oneoff and bad-fd errnos for WASI commands (host/command/poll.ts, host/command/ready.ts,
 * host/command/stdio.ts withUnsignedArgs), held to the preview1 spec on both backends, run by
 * wasm/test/cmd-poll.wasm (test/guests/cmd-poll.ts), which prints every event it gets back as
 * "sub I: error E type T nbytes N flags F" (type 0 clock, 1 fd_read, 2 fd_write; flags 1 is
 * fd_readwrite_hangup; errno 8 EBADF, 21 EFAULT, 28 EINVAL).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCommand, type WasiBackendName } from '../host/command/command.ts';
import { MAX_SUBSCRIPTIONS } from '../host/command/poll.ts';
import { killCmdChildren, ROOT, startCli, startRunner, until } from './helpers/cmd-spawn.ts';
import { threadCpuMs } from './helpers/thread-cpu.ts';

const MODULE_PATH = join(ROOT, 'wasm/test/cmd-poll.wasm');
const MODULE = new WebAssembly.Module(readFileSync(MODULE_PATH));
const BACKENDS: WasiBackendName[] = ['wasmer', 'node'];
const CLOCK_IDS = [0, 1, 2, 3]; // realtime, monotonic, process_cputime_id, thread_cputime_id

let scratch = '';
const setup = () => {
  scratch = mkdtempSync(join(tmpdir(), 'wasmloop-poll-'));
};
const teardown = () => {
  killCmdChildren();
  rmSync(scratch, { recursive: true, force: true });
};

interface Run {
  status: number;
  stdout: string;
  ms: number;
  /** CPU time of the thread the guest ran on (this one), not of the process. */
  cpuMs: number;
}

/** runCommand in this process, with a temp file holding `input` as stdin. */
async function run(backend: WasiBackendName, args: string[], input = ''): Promise<Run> {
  writeFileSync(join(scratch, 'in'), input);
  const stdin = openSync(join(scratch, 'in'), 'r'),
    stdout = openSync(join(scratch, 'out'), 'w'),
    stderr = openSync(join(scratch, 'err'), 'w');
  try {
    // runCommand runs the guest on this thread: its CPU is this thread's, not the process's.
    const cpu = threadCpuMs(),
      start = performance.now();
    const status = await runCommand(MODULE, {
      args: ['cmd-poll.wasm', ...args],
      env: {},
      dirs: [],
      backend,
      stdin,
      stdout,
      stderr,
    });
    const ms = performance.now() - start;
    return {
      status,
      stdout: readFileSync(join(scratch, 'out'), 'utf8'),
      ms,
      cpuMs: threadCpuMs() - cpu,
    };
  } finally {
    for (const fd of [stdin, stdout, stderr]) closeSync(fd);
  }
}

const events = (lines: string[]) =>
  `poll: errno 0, ${lines.length} events\n${lines.map((l) => l + '\n').join('')}`;

for (const backend of BACKENDS) {
  const test = suite(`WASI poll_oneoff and bad fds, ${backend} backend`);
  test.before.each(setup);
  test.after.each(teardown);

  test('fd_write to a bad fd is EBADF, also for fds with the top bit set', async () => {
    const r = await run(backend, ['write', '99', '2147483648', '4294967295']);
    assert.is(r.stdout, 'fd 99: errno 8\nfd 2147483648: errno 8\nfd 4294967295: errno 8\n');
    assert.is(r.status, 0);
  });

  test('stdout and stderr are writable at once', async () => {
    const r = await run(backend, ['poll', 'write:1', 'write:2', 'clock:1:10000000000']);
    assert.is(
      r.stdout,
      events(['sub 0: error 0 type 2 nbytes 0 flags 0', 'sub 1: error 0 type 2 nbytes 0 flags 0']),
    );
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
  });

  test('a bad fd is an EBADF event of the type subscribed, with the other ready events', async () => {
    const r = await run(backend, [
      'poll',
      'read:99',
      'write:2147483648',
      'read:4294967295',
      'write:1',
      'clock:1:10000000000',
    ]);
    assert.is(
      r.stdout,
      events([
        'sub 0: error 8 type 1 nbytes 0 flags 0',
        'sub 1: error 8 type 2 nbytes 0 flags 0',
        'sub 2: error 8 type 1 nbytes 0 flags 0',
        'sub 3: error 0 type 2 nbytes 0 flags 0',
      ]),
    );
  });

  test('stdin as a regular file: readable at once, nbytes is what is left; fd_read still gets it', async () => {
    const r = await run(backend, ['poll', 'read:0', 'clock:1:10000000000', 'then-read'], 'abcde');
    assert.is(r.stdout, events(['sub 0: error 0 type 1 nbytes 5 flags 0']) + 'read 5: abcde\n');
  });

  test('no subscriptions and an unknown event type are EINVAL; ranges past the memory are EFAULT', async () => {
    assert.is((await run(backend, ['poll'])).stdout, 'poll: errno 28, 65535 events\n');
    assert.is((await run(backend, ['poll', 'tag:3'])).stdout, 'poll: errno 28, 65535 events\n');
    assert.is(
      (await run(backend, ['poll-fault'])).stdout,
      'in wraps: errno 21\nout wraps: errno 21\n',
    );
  });

  test(`at most MAX_SUBSCRIPTIONS (${MAX_SUBSCRIPTIONS}) subscriptions in one call; more is ENOMEM`, async () => {
    assert.is(
      (await run(backend, ['poll-many', String(MAX_SUBSCRIPTIONS)])).stdout,
      `poll ${MAX_SUBSCRIPTIONS}: errno 0, ${MAX_SUBSCRIPTIONS} events\n`,
    );
    assert.is(
      (await run(backend, ['poll-many', String(MAX_SUBSCRIPTIONS + 1)])).stdout,
      `poll ${MAX_SUBSCRIPTIONS + 1}: errno 48, 65535 events\n`,
    );
  });

  test('subscriptions are all read before the event area, which may overlap them, is touched', async () => {
    const r = await run(backend, ['poll-overlap']);
    assert.is(
      r.stdout,
      events(['sub 0: error 0 type 0 nbytes 0 flags 0', 'sub 1: error 0 type 2 nbytes 0 flags 0']),
    );
  });

  test('an unknown clock id is an EINVAL clock event', async () => {
    assert.is(
      (await run(backend, ['poll', 'clock:4:1000000000'])).stdout,
      events(['sub 0: error 28 type 0 nbytes 0 flags 0']),
    );
  });

  for (const kind of ['clock', 'abs']) {
    test(`${kind === 'abs' ? 'absolute' : 'relative'} timeouts on every clock id: never early, not much late, asleep`, async () => {
      for (const id of CLOCK_IDS) {
        const r = await run(backend, ['poll', `${kind}:${id}:300000000`, 'clock:1:20000000000']);
        assert.is(r.stdout, events(['sub 0: error 0 type 0 nbytes 0 flags 0']), `clock ${id}`);
        assert.ok(r.ms >= 299, `clock ${id}: fired after ${r.ms} ms`);
        assert.ok(r.ms < 5000, `clock ${id}: took ${r.ms} ms`);
        // The guest runs on this thread: instantiating and running it cost 10-60 ms of it with a
        // sleep (measured, 60 in a full CI run); a poll that spins (sleep removed) burns the
        // 300 ms wherever the machine is idle, 80-160 ms at load averages of 6-10.
        assert.ok(r.cpuMs < 150, `clock ${id}: ${r.cpuMs} ms of CPU on the guest's thread`);
      }
    });
  }

  test.run();
}

// --- over real pipes -------------------------------------------------------------------------

for (const backend of BACKENDS) {
  const test = suite(`WASI poll_oneoff on a stdin pipe, ${backend} backend`);
  test.before.each(setup);
  test.after.each(teardown);

  test('waits for input, reports it readable, and leaves it for fd_read', async () => {
    const child = startRunner([
      '--wasi',
      backend,
      MODULE_PATH,
      'poll',
      'read:0',
      'clock:1:20000000000',
      'then-read',
    ]);
    await until(() => child.stderr() === 'polling\n', 'the guest to poll');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(child.stdout().toString(), '', 'nothing is readable before input arrives');
    child.proc.stdin.write('hello\n');
    await until(() => child.stdout().toString().includes('read'), 'the event and the read');
    assert.is(
      child.stdout().toString(),
      events(['sub 0: error 0 type 1 nbytes 0 flags 0']) + 'read 6: hello\n\n',
    );
    child.proc.stdin.end();
    assert.is(await child.exited(), 0);
  });

  test('stdin at end of input is readable, with fd_readwrite_hangup and no bytes', async () => {
    const child = startRunner([
      '--wasi',
      backend,
      MODULE_PATH,
      'poll',
      'read:0',
      'clock:1:20000000000',
      'then-read',
    ]);
    child.proc.stdin.end();
    assert.is(await child.exited(), 0);
    assert.is(
      child.stdout().toString(),
      events(['sub 0: error 0 type 1 nbytes 0 flags 1']) + 'read 0: \n',
    );
  });

  test('once the guest closes fd 0, polling it asks the backend, not the host stdin', async () => {
    // The host's stdin stays silent: were it still polled, only the clock would fire.
    const child = startRunner([
      '--wasi',
      backend,
      MODULE_PATH,
      'poll',
      'close:0',
      'read:0',
      'clock:1:2000000000',
    ]);
    assert.is(await child.exited(), 0);
    // node:wasi closed its fd 0; @wasmer/wasi keeps an empty stdin of its own there (WASI.md).
    const error = backend === 'node' ? 8 : 0;
    assert.is(child.stdout().toString(), events([`sub 0: error ${error} type 1 nbytes 0 flags 0`]));
    child.proc.stdin.end();
  });

  test('a clock timeout fires while stdin stays silent', async () => {
    const child = startRunner([
      '--wasi',
      backend,
      MODULE_PATH,
      'poll',
      'read:0',
      'clock:1:300000000',
    ]);
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), events(['sub 1: error 0 type 0 nbytes 0 flags 0']));
    child.proc.stdin.end();
  });

  test.run();
}

// --- signals ---------------------------------------------------------------------------------

const signals = suite('wasmloop run: a command asleep in poll_oneoff');
signals.before.each(setup);
signals.after.each(teardown);

for (const backend of BACKENDS) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    signals(`${signal} ends it (${backend} backend)`, async () => {
      const child = startCli(['run', '--wasi', backend, MODULE_PATH, 'poll', 'read:0']);
      await until(() => child.stderr() === 'polling\n', 'the guest to poll');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(child.running(), 'still waiting for stdin');
      const sent = performance.now();
      child.proc.kill(signal);
      assert.is(await child.exited(5000), signal);
      assert.ok(performance.now() - sent < 3000);
    });
  }
}

signals.run();
