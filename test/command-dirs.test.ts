/**
 * WASI commands: preopened directories (--dir), the choice of backend, and the modules and
 * options refused before running (ERR_WASMLOOP_USAGE, _DIR, _NOT_COMMAND, _IMPORT).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseBackend, parseDirOption, runCommand } from '../host/command/command.ts';
import { WasmloopError } from '../host/errors.ts';
import { ROOT, startRunner } from './helpers/cmd-spawn.ts';
import {
  BACKENDS,
  errorCode,
  MODULE_PATH,
  runInProcess,
  scratch,
  setup,
  teardown,
  tinyModule,
} from './helpers/cmd-inprocess.ts';

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
