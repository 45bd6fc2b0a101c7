/**
 * Plain WASI preview1 command modules (host/command/command.ts), run by wasm/test/cmd-tool.wasm
 * (test/guests/cmd-tool.ts) in this process with temp files as stdio, on both backends, which
 * are meant to behave the same: arguments, environment, exit status, traps, stdio (in order,
 * byte-exact), and no host file without --dir. The same over real pipes:
 * test/command-pipes.test.ts; directories and refusals: test/command-dirs.test.ts; through the
 * CLI: test/command-cli.test.ts.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BAD_EXIT_STATUS, TRAP_STATUS } from '../host/command/command.ts';
import { startRunner } from './helpers/cmd-spawn.ts';
import {
  BACKENDS,
  MiB,
  MODULE_PATH,
  runInProcess,
  scratch,
  setup,
  teardown,
} from './helpers/cmd-inprocess.ts';

// --- the same behaviour on both backends, in process -----------------------------------------

for (const backend of BACKENDS) {
  const test = suite(`WASI command, ${backend} backend`);
  test.before.each(setup);
  test.after.each(teardown);

  test('arguments reach the guest; argv[0] is the module name', async () => {
    const r = await runInProcess(['args', 'two words', '--flag', ''], { backend });
    assert.is(r.status, 0);
    assert.is(r.stdout.toString(), 'cmd-tool.wasm\nargs\ntwo words\n--flag\n\n');
  });

  test('the environment is exactly what was given: nothing of the host', async () => {
    process.env.WASMLOOP_TEST_SECRET = 'host-only';
    try {
      const r = await runInProcess(['env'], { backend, env: { GREETING: 'hi there', EQ: 'a=b' } });
      assert.is(r.status, 0);
      assert.is(r.stdout.toString(), 'GREETING=hi there\nEQ=a=b\n');
    } finally {
      delete process.env.WASMLOOP_TEST_SECRET;
    }
  });

  test('proc_exit(n) is the exit status; returning from _start is 0', async () => {
    assert.is((await runInProcess(['exit', '3'], { backend })).status, 3);
    assert.is((await runInProcess(['exit', '255'], { backend })).status, 255);
    assert.is((await runInProcess(['exit', '256'], { backend })).status, BAD_EXIT_STATUS);
    assert.is((await runInProcess(['args'], { backend })).status, 0);
  });

  test('a trap: output before it is kept, then one line on stderr and TRAP_STATUS', async () => {
    const r = await runInProcess(['trap'], { backend });
    assert.is(r.status, TRAP_STATUS);
    assert.is(r.stdout.toString(), 'before the trap\n');
    assert.is(r.stderr, 'wasmloop: guest trapped: unreachable\n');
  });

  test('AssemblyScript abort() is a trap with its message', async () => {
    const r = await runInProcess(['abort'], { backend });
    assert.is(r.status, TRAP_STATUS);
    assert.match(
      r.stderr,
      /^wasmloop: guest trapped: abort: the guest gave up at test\/guests\/cmd-tool\.ts:\d+:\d+\n$/,
    );
  });

  test('stdout and stderr are separate, and interleave in the order written', async () => {
    const separate = await runInProcess(['streams'], { backend });
    assert.is(separate.stdout.toString(), 'out 1\nout 2\n');
    assert.is(separate.stderr, 'err 1\nerr 2\n');
    const merged = await runInProcess(['streams'], { backend, merged: true });
    assert.is(merged.stdout.toString(), 'out 1\nerr 1\nout 2\nerr 2\n');
  });

  test('stdin is copied to stdout byte-exact (1 MiB)', async () => {
    const input = randomBytes(MiB);
    const r = await runInProcess(['cat'], { backend, input });
    assert.is(r.status, 0);
    assert.ok(r.stdout.equals(input), `got ${r.stdout.length} bytes, not the ${input.length} sent`);
  });

  test('without --dir the guest reaches no host file', async () => {
    writeFileSync(join(scratch, 'in.txt'), 'secret\n');
    const child = startRunner(['--wasi', backend, MODULE_PATH, 'files'], scratch);
    assert.is(await child.exited(), 1);
    // The guest's own failure (node: no preopen at all; wasmer: only its empty in-memory root).
    assert.match(child.stderr(), /^(no preopened directory|open in\.txt: errno \d+)\n$/);
    assert.not.ok(existsSync(join(scratch, 'out.txt')));
  });

  test.run();
}
