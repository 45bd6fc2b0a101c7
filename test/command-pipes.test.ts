/**
 * WASI commands over real pipes, in a child process (test/helpers/cmd-run.ts), on both
 * backends: stdout is live, stdin is read on demand, 1 MiB passes byte-exact behind a slow
 * reader (also over non-blocking pipes), stderr is its own stream, and the exit status and
 * the trap line reach the process.
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TRAP_STATUS } from '../host/command/command.ts';
import { startRunner, until } from './helpers/cmd-spawn.ts';
import { BACKENDS, MiB, MODULE_PATH, setup, teardown } from './helpers/cmd-inprocess.ts';

// --- the same behaviour on both backends, over real pipes ------------------------------------

for (const backend of BACKENDS) {
  const test = suite(`WASI command over pipes, ${backend} backend`);
  test.before.each(setup);
  test.after.each(teardown);

  for (const nonBlocking of [false, true]) {
    const flags = nonBlocking ? ['--nonblocking-stdio', '--wasi', backend] : ['--wasi', backend];
    const how = nonBlocking ? ' (non-blocking pipes)' : '';

    test(`stdout is live and stdin is read on demand${how}`, async () => {
      const child = startRunner([...flags, MODULE_PATH, 'prompt']);
      await until(() => child.stdout().toString() === 'ready\n', 'the prompt, before any input');
      assert.ok(child.running(), 'the guest is still waiting for its input');
      child.proc.stdin.end('hello\n');
      assert.is(await child.exited(), 0);
      assert.is(child.stdout().toString(), 'ready\ngot hello\n');
      assert.is(child.stderr(), '');
    });

    test(`1 MiB through stdin and stdout, byte-exact, with a slow reader${how}`, async () => {
      const input = randomBytes(MiB);
      const child = startRunner([...flags, MODULE_PATH, 'cat']);
      // Nobody reads stdout for a while (the guest's writes fill the pipe) and input arrives
      // in pieces (its reads find the pipe empty): both directions have to wait.
      child.proc.stdout.pause();
      for (let off = 0; off < input.length; off += 256 * 1024) {
        child.proc.stdin.write(input.subarray(off, off + 256 * 1024));
        await new Promise((r) => setTimeout(r, 50));
      }
      child.proc.stdin.end();
      setTimeout(() => child.proc.stdout.resume(), 200);
      assert.is(await child.exited(), 0);
      assert.ok(child.stdout().equals(input), `got ${child.stdout().length} bytes`);
      assert.is(child.stderr(), '');
    });
  }

  test('stderr is its own stream; node:wasi prints no ExperimentalWarning', async () => {
    const child = startRunner(['--wasi', backend, MODULE_PATH, 'streams']);
    child.proc.stdin.end();
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), 'out 1\nout 2\n');
    assert.is(child.stderr(), 'err 1\nerr 2\n');
  });

  test('the exit status and the trap line reach the process', async () => {
    const exit = startRunner(['--wasi', backend, MODULE_PATH, 'exit', '3']);
    assert.is(await exit.exited(), 3);
    const trap = startRunner(['--wasi', backend, MODULE_PATH, 'trap']);
    assert.is(await trap.exited(), TRAP_STATUS);
    assert.is(trap.stdout().toString(), 'before the trap\n');
    assert.is(trap.stderr(), 'wasmloop: guest trapped: unreachable\n');
  });

  test.run();
}
