/**
 * The native loader's prebuilt binary (host/kernel/native.ts): an installed package has no
 * build/, only prebuilds/PLATFORM-ARCH/node.napi.node (prebuildify's layout, made by
 * scripts/prebuild.js), and the loader finds it there. The copy of the loader is imported in a
 * child process: importing a .ts file opens descriptors of tsx's own, which would upset the
 * descriptor counts of the suites that run after this one in the same process.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const PROBE = `import { loadNative } from './host/kernel/native.ts';
const k = loadNative();
const fd = k.epollCreate();
console.log(JSON.stringify([fd >= 0, k.close(fd)]));`;

test('without build/, the loader takes the prebuilt binary for this platform', () => {
  // A copy of the loader in a directory with prebuilds/ and no build/ beside it.
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-prebuilt-'));
  try {
    mkdirSync(join(dir, 'host', 'kernel'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    for (const f of ['kernel/native.ts', 'errors.ts'])
      copyFileSync(join(ROOT, 'host', f), join(dir, 'host', f));
    const prebuilds = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(prebuilds, { recursive: true });
    copyFileSync(
      join(ROOT, 'build', 'Release', 'wasmloop.node'),
      join(prebuilds, 'node.napi.node'),
    );
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const r = spawnSync(
      process.execPath,
      ['--import', `file://${tsx}`, '--input-type=module', '-e', PROBE],
      { cwd: dir, encoding: 'utf8', timeout: 20_000 },
    );
    assert.is(r.status, 0, `child ended with ${r.status ?? r.signal}: ${r.stderr}`);
    assert.equal(
      JSON.parse(r.stdout),
      [true, 0],
      'epoll_create and close through the prebuilt shim',
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
