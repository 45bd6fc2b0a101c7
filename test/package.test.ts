/**
 * What `npm pack` ships: the bundles, compiled .d.ts types, the AssemblyScript SDK's entry files,
 * the prebuilt shim and its C sources (the install script compiles them where no prebuilt
 * binary loads), not node-gyp's build/ nor the host's TypeScript sources nor any test code; and a
 * consumer type-checks against the packed types alone. Offline: the tarball is unpacked into a
 * temporary directory next to a consumer file, with this repository's @types/node and
 * @wasmer/wasi linked in as the consumer's own dependencies would be.
 * Needs `npm run build` (run by `npm test`'s pretest) for dist/ and prebuilds/.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function npm(args: string[]): string {
  const r = spawnSync('npm', [...args, '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function packedFiles(): string[] {
  const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json'])) as [
    { files: { path: string }[] },
  ];
  return pack.files.map((f) => f.path);
}

test('the package ships bundles, .d.ts types, the SDK, prebuilt and source shims, no build/, no host .ts, no tests', () => {
  assert.ok(
    existsSync(join(ROOT, 'dist', 'types', 'index.d.ts')),
    'run `npm run build:host` first',
  );
  const files = packedFiles();
  for (const f of [
    'bin/wasmloop.js',
    'dist/index.js',
    'dist/cli.js',
    'dist/worker.js',
    'dist/types/index.d.ts',
    'binding.gyp',
    'host/native/net.c',
    'wasm/hello.wasm',
    'dist/testing.js',
    'dist/types/testing.d.ts',
    'guest.ts',
    'http.ts',
    'socket.ts',
    'asconfig.json',
    'prebuilds/linux-x64/node.napi.node',
    'scripts/install-native.js',
  ]) {
    assert.ok(files.includes(f), `${f} is shipped`);
  }
  assert.equal(
    files.filter((f) => f.startsWith('build/')),
    [],
    'no node-gyp output (Makefile, config.gypi with local paths)',
  );
  const sources = files.filter((f) => f.startsWith('host/') && !f.startsWith('host/native/'));
  assert.equal(sources, [], 'no host TypeScript source');
  assert.equal(
    files.filter((f) => f.startsWith('test/') || f.includes('/props/')),
    [],
    'no test code',
  );
});

const CONSUMER = `import { createLoop, GuestTrap, KNOWN_LIMITS, WasmloopError, type LoopStats, type WasmLoop } from 'wasmloop';

export async function start(): Promise<WasmLoop> {
  const loop = await createLoop({ module: 'hello.wasm', listen: [{ host: '127.0.0.1', port: 0 }], limits: { 'max-connections': 10 } });
  const stats: LoopStats = loop.stats();
  if (stats.open > KNOWN_LIMITS['max-connections'].default) await loop.close({ graceMs: 0 });
  return loop;
}
export const isTrap = (e: unknown): boolean => e instanceof GuestTrap || (e instanceof WasmloopError && e.code === 'ERR_WASMLOOP_TRAP');
// @ts-expect-error the types are real: a port is a number
export const wrong: Parameters<typeof createLoop>[0] = { module: 'x.wasm', listen: [{ port: 'eighty' }] };
`;

test('a consumer type-checks against the packed types alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-pack-'));
  try {
    npm(['pack', '--pack-destination', dir, '--silent']);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const pkg = join(dir, 'node_modules', 'wasmloop');
    mkdirSync(pkg, { recursive: true });
    const untar = spawnSync('tar', [
      '-xzf',
      join(dir, tarball),
      '-C',
      pkg,
      '--strip-components',
      '1',
    ]);
    assert.is(untar.status, 0, 'tar');
    for (const dep of ['@types', '@wasmer'])
      symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.stdout + r.stderr, '', 'tsc reports nothing');
    assert.is(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
