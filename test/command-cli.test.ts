/**
 * WASI commands through the real CLI (`wasmloop run <module>`): arguments, --env, the exit
 * status, traps, --dir and --wasi.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TRAP_STATUS } from '../host/command/command.ts';
import { startCli, type CmdChild } from './helpers/cmd-spawn.ts';
import { BACKENDS, MODULE_PATH, scratch, setup, teardown } from './helpers/cmd-inprocess.ts';

// --- through the real CLI -------------------------------------------------------------------

const cli = suite('wasmloop run <WASI command>');
cli.before.each(setup);
cli.after.each(teardown);

function cliRun(args: string[], cwd?: string): CmdChild {
  const child = startCli(['run', ...args], cwd);
  child.proc.stdin.end();
  return child;
}

cli('arguments, --env, the exit status', async () => {
  const args = cliRun([MODULE_PATH, 'args', 'a b']);
  assert.is(await args.exited(), 0, args.stderr());
  assert.is(args.stdout().toString(), `${MODULE_PATH}\nargs\na b\n`); // argv[0]: the module as given
  const env = cliRun(['--env', 'A=1', MODULE_PATH, 'env']);
  assert.is(await env.exited(), 0);
  assert.is(env.stdout().toString(), 'A=1\n');
  assert.is(await cliRun([MODULE_PATH, 'exit', '3']).exited(), 3);
});

cli('a trap exits TRAP_STATUS with one line on stderr', async () => {
  const trap = cliRun([MODULE_PATH, 'trap']);
  assert.is(await trap.exited(), TRAP_STATUS);
  assert.is(trap.stderr(), 'wasmloop: guest trapped: unreachable\n');
});

cli('--dir (node by default) and --wasi wasmer --dir refused', async () => {
  writeFileSync(join(scratch, 'in.txt'), 'cli\n');
  const ok = cliRun(['--dir', `${scratch}::/work`, MODULE_PATH, 'files']);
  assert.is(await ok.exited(), 0, ok.stderr());
  assert.is(readFileSync(join(scratch, 'out.txt'), 'utf8'), 'seen: cli\n');
  const refused = cliRun(['--wasi', 'wasmer', '--dir', scratch, MODULE_PATH, 'files']);
  assert.is(await refused.exited(), 64);
  assert.match(refused.stderr(), /^wasmloop: .*--wasi node.*\n$/);
});

cli('--wasi node and --wasi wasmer both stream stdin to stdout', async () => {
  for (const backend of BACKENDS) {
    const child = startCli(['run', '--wasi', backend, MODULE_PATH, 'cat']);
    child.proc.stdin.end('through the cli\n');
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), 'through the cli\n');
  }
});

cli.run();
