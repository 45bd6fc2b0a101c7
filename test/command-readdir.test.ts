/**
 * fd_readdir lists "." and ".." first on both backends (host/command/readdir.ts), with cookies
 * that resume a listing exactly where it stopped whatever the buffer size, and fd_write on a
 * descriptor that is not open is EBADF. In process, over wasm/test/cmd-dir.wasm
 * (test/guests/cmd-dir.ts), with temp files as its stdio.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCommand, type CommandOptions } from '../host/command/command.ts';
import { BACKENDS, scratch, setup, teardown } from './helpers/cmd-inprocess.ts';
import { ROOT } from './helpers/cmd-spawn.ts';

const MODULE = new WebAssembly.Module(readFileSync(join(ROOT, 'wasm/test/cmd-dir.wasm')));

/** The command's stdout for `args`. */
async function run(args: string[], opts: Partial<CommandOptions> = {}): Promise<string> {
  const out = join(scratch, 'out');
  const [stdin, stdout] = [openSync('/dev/null', 'r'), openSync(out, 'w')];
  try {
    const status = await runCommand(MODULE, {
      ...{ env: {}, dirs: [], ...opts },
      ...{ args: ['cmd-dir', ...args], stdin, stdout, stderr: stdout },
    });
    assert.is(status, 0);
    return readFileSync(out, 'utf8');
  } finally {
    closeSync(stdin);
    closeSync(stdout);
  }
}

/** A directory with two files and a subdirectory, preopened for the node backend (the wasmer
 *  one has only its empty in-memory root). */
function tree(backend: string): Partial<CommandOptions> {
  if (backend === 'wasmer') return { backend: 'wasmer' };
  const dir = join(scratch, 'tree');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'alpha'), 'a');
  writeFileSync(join(dir, 'beta'), 'b');
  return { backend: 'node', dirs: [{ host: dir, guest: '/tree' }] };
}

const test = suite('WASI fd_readdir and fd_write on a bad fd');
test.before.each(setup);
test.after.each(teardown);

for (const backend of BACKENDS) {
  test(`fd_readdir lists . and .. first, then each entry once, cookies in order (${backend})`, async () => {
    const opts = tree(backend);
    const whole = await run(['readdir', '3', '4096'], opts);
    const lines = whole.trimEnd().split('\n');
    assert.equal(lines.slice(0, 2), ['. next 1 type 3', '.. next 2 type 3']);
    const rest = lines
      .slice(2, -1)
      .map((l) => l.split(' next ')[0])
      .sort();
    assert.equal(rest, backend === 'node' ? ['alpha', 'beta', 'sub'] : []);
    lines.slice(0, -1).forEach((l, i) => assert.match(l, ` next ${i + 1} `));
    assert.is(lines.at(-1), 'calls 1');
    // Small buffers: many calls, each resuming from the last whole entry's cookie.
    for (const size of ['40', '60']) {
      const pieces = await run(['readdir', '3', size], opts);
      assert.is(pieces.replace(/calls \d+\n$/, ''), whole.replace(/calls \d+\n$/, ''));
      if (size === '40') assert.ok(Number(/calls (\d+)/.exec(pieces)![1]) > 1, 'more calls');
    }
  });

  test(`fd_readdir on a descriptor that is not open is EBADF (${backend})`, async () => {
    assert.is(await run(['readdir', '99', '4096'], tree(backend)), 'readdir: errno 8\n');
  });

  test(`spec checks: clock ids, prestat on stdio, rights, renumber (${backend})`, async () => {
    const lines = (await run(['probe', '3'], tree(backend))).split('\n').slice(0, 11);
    assert.equal(lines, [
      ...[0, 1, 2, 3].map((id) => `clock_res_get ${id}: errno 0 > 0`),
      'clock_res_get 4: errno 28', // EINVAL; @wasmer/wasi trapped
      'clock_time_get 4: errno 28',
      'fd_fdstat_set_rights add: errno 76', // ENOTCAPABLE: rights can only be dropped
      'fd_prestat_get 0: errno 8', // EBADF; node:wasi said EINVAL, @wasmer/wasi succeeded
      'fd_renumber to closed: errno 8',
      'sched_yield: errno 0',
      'random_get: errno 0',
    ]);
  });

  test(`fd_write on a descriptor that is not open is EBADF (${backend})`, async () => {
    assert.is(await run(['badwrite'], { backend }), 'fd 99: errno 8\nfd 4294967295: errno 8\n');
  });
}

test.run();
