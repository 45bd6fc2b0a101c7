/**
 * Plain WASI preview1 command modules (host/command/command.ts), run by wasm/test/cmd-tool.wasm
 * (test/guests/cmd-tool.ts): arguments, environment, exit status, traps, stdio (live, in order,
 * byte-exact, also over non-blocking pipes) and preopened directories, on both backends where
 * they are meant to behave the same. In-process runs give the guest temp files as stdio;
 * runs over real pipes go through test/helpers/cmd-run.ts in a child process.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BAD_EXIT_STATUS,
  chooseBackend,
  parseDirOption,
  runCommand,
  TRAP_STATUS,
  type CommandOptions,
  type WasiBackendName,
} from '../host/command/command.ts';
import { WasmloopError } from '../host/errors.ts';
import {
  killCmdChildren,
  ROOT,
  startCli,
  startRunner,
  until,
  type CmdChild,
} from './helpers/cmd-spawn.ts';

const MODULE_PATH = join(ROOT, 'wasm/test/cmd-tool.wasm');
const MODULE = new WebAssembly.Module(readFileSync(MODULE_PATH));
const BACKENDS: WasiBackendName[] = ['wasmer', 'node'];
const MiB = 1 << 20;

let scratch = '';
const setup = () => {
  scratch = mkdtempSync(join(tmpdir(), 'wasmloop-cmd-'));
};
const teardown = () => {
  killCmdChildren();
  rmSync(scratch, { recursive: true, force: true });
};

interface InProcessRun {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** runCommand in this process, with temp files as the guest's stdio (the same file for stdout
 *  and stderr when `merged`, to see how the two interleave). */
async function runInProcess(
  args: string[],
  opts: Partial<CommandOptions> & { input?: Buffer; merged?: boolean } = {},
): Promise<InProcessRun> {
  const inPath = join(scratch, 'stdin'),
    outPath = join(scratch, 'stdout'),
    errPath = join(scratch, 'stderr');
  writeFileSync(inPath, opts.input ?? '');
  const stdin = openSync(inPath, 'r'),
    stdout = openSync(outPath, 'w'),
    stderr = opts.merged ? stdout : openSync(errPath, 'w');
  try {
    const status = await runCommand(MODULE, {
      env: {},
      dirs: [],
      ...opts,
      args: ['cmd-tool.wasm', ...args],
      stdin,
      stdout,
      stderr,
    });
    return {
      status,
      stdout: readFileSync(outPath),
      stderr: opts.merged ? '' : readFileSync(errPath, 'utf8'),
    };
  } finally {
    for (const fd of new Set([stdin, stdout, stderr])) closeSync(fd);
  }
}

/** The WasmloopError code `fn` rejects with. */
async function errorCode(fn: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof WasmloopError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a WasmloopError');
}

/** A minimal module: optional imports (module, name; all `() -> ()` functions), a memory, and an
 *  empty `_start`, for what AssemblyScript will not produce. */
function tinyModule(imports: [string, string][]): WebAssembly.Module {
  const str = (s: string) => [s.length, ...Buffer.from(s)];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(2, [
      imports.length,
      ...imports.flatMap(([m, n]) => [...str(m), ...str(n), 0x00, 0]),
    ]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...str('_start'), 0x00, imports.length, ...str('memory'), 0x02, 0]),
    ...section(10, [1, 2, 0, 0x0b]),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}

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

// --- directories, backends and refusals ------------------------------------------------------

const dirs = suite('WASI command: directories and refusals');
dirs.before.each(setup);
dirs.after.each(teardown);

dirs('the backend is wasmer by default, node when directories are preopened', () => {
  assert.is(chooseBackend(undefined, []), 'wasmer');
  assert.is(chooseBackend(undefined, [{ host: '.', guest: '.' }]), 'node');
  assert.is(chooseBackend('node', []), 'node');
});

dirs('--dir HOST[::GUEST] parsing', () => {
  assert.equal(parseDirOption('data'), { host: 'data', guest: 'data' });
  assert.equal(parseDirOption('/tmp/x::/data'), { host: '/tmp/x', guest: '/data' });
  for (const bad of ['', '::/data', '/tmp/x::']) {
    assert.throws(
      () => parseDirOption(bad),
      (e: WasmloopError) => e.code === 'ERR_WASMLOOP_USAGE',
    );
  }
});

for (const backend of [undefined, 'node'] as const) {
  dirs(
    `a preopened directory is read and written for real (backend ${backend ?? 'default'})`,
    async () => {
      const data = join(scratch, 'data');
      mkdirSync(data);
      writeFileSync(join(data, 'in.txt'), 'hello from the host\n');
      const r = await runInProcess(['files'], { backend, dirs: [{ host: data, guest: '/data' }] });
      assert.is(r.stderr, '');
      assert.is(r.stdout.toString(), 'preopen: /data\nwrote out.txt\n');
      assert.is(r.status, 0);
      assert.is(readFileSync(join(data, 'out.txt'), 'utf8'), 'seen: hello from the host\n');
    },
  );
}

dirs('--dir through the runner: a relative host path seen under its own name', async () => {
  mkdirSync(join(scratch, 'rel'));
  writeFileSync(join(scratch, 'rel', 'in.txt'), 'x');
  const child = startRunner(['--dir', 'rel', MODULE_PATH, 'files'], scratch);
  assert.is(await child.exited(), 0, child.stderr());
  assert.is(child.stdout().toString(), 'preopen: rel\nwrote out.txt\n');
  assert.is(readFileSync(join(scratch, 'rel', 'out.txt'), 'utf8'), 'seen: x');
});

dirs('the wasmer backend refuses --dir, naming the fix', async () => {
  const e = await errorCode(() =>
    runInProcess(['files'], { backend: 'wasmer', dirs: [{ host: scratch, guest: '/data' }] }),
  );
  assert.is(e.code, 'ERR_WASMLOOP_USAGE');
  assert.match(e.message, /--wasi node/);
  assert.not.match(e.message, /\n/);
});

dirs('a --dir that is missing or not a directory is ERR_WASMLOOP_DIR', async () => {
  const missing = await errorCode(() =>
    runInProcess(['files'], { dirs: [{ host: join(scratch, 'nope'), guest: '/d' }] }),
  );
  assert.is(missing.code, 'ERR_WASMLOOP_DIR');
  assert.match(missing.message, /no such directory/);
  writeFileSync(join(scratch, 'file'), '');
  const file = await errorCode(() =>
    runInProcess(['files'], { dirs: [{ host: join(scratch, 'file'), guest: '/d' }] }),
  );
  assert.is(file.code, 'ERR_WASMLOOP_DIR');
  assert.match(file.message, /not a directory/);
  const twice = await errorCode(() =>
    runInProcess(['files'], {
      dirs: [
        { host: scratch, guest: '/d' },
        { host: scratch, guest: '/d' },
      ],
    }),
  );
  assert.is(twice.code, 'ERR_WASMLOOP_DIR');
});

dirs(
  'a module without _start is ERR_WASMLOOP_NOT_COMMAND (a wasmloop guest, an empty module)',
  async () => {
    const guest = new WebAssembly.Module(readFileSync(join(ROOT, 'wasm/test/wasi-log.wasm')));
    const empty = new WebAssembly.Module(
      new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]),
    );
    for (const module of [guest, empty]) {
      const e = await errorCode(() => runCommand(module, { args: ['x'], env: {}, dirs: [] }));
      assert.is(e.code, 'ERR_WASMLOOP_NOT_COMMAND');
    }
  },
);

dirs('an import no backend provides is ERR_WASMLOOP_IMPORT, on both backends', async () => {
  for (const backend of BACKENDS) {
    for (const imp of [
      ['foo', 'bar'],
      ['wasi_snapshot_preview1', 'no_such_call'],
      ['wasi_unstable', 'fd_write'],
    ] as [string, string][]) {
      const e = await errorCode(() =>
        runCommand(tinyModule([imp]), { args: ['x'], env: {}, dirs: [], backend }),
      );
      assert.is(e.code, 'ERR_WASMLOOP_IMPORT', `${backend} ${imp.join('.')}`);
      assert.match(e.message, imp.join('.'));
    }
    assert.is(await runCommand(tinyModule([]), { args: ['x'], env: {}, dirs: [], backend }), 0);
  }
});

dirs.run();

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
