/**
 * End to end, as a new user works (issue 13): the project is packed, the tarball installed into
 * a fresh project with install scripts off (as npm 11 installs a dependency whose scripts the
 * user has not approved), an app is made with `wasmloop init`, its handler changed, built with
 * `npm run build` (`wasmloop build`), unit-tested over the simulated kernel with `npm test`,
 * served by `createLoop` and by `wasmloop run`, and a consumer TypeScript file type-checks
 * against the installed types. The native shim comes from the package's prebuilt binary: an
 * installed package has no build/.
 *
 * Why it is here, in `npm test`, and not a CI step of its own: it needs no network. The tarball's
 * dependencies (assemblyscript with binaryen and long, @wasmer/wasi) are given to npm as links
 * to this repository's node_modules, which `npm ci` filled, and npm installs `--offline`. Needs
 * `npm run build` (pretest) for dist/, wasm/ and prebuilds/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { waitFor } from './helpers/net-tcp.ts';

const test = suite('user project');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPS = join(ROOT, 'node_modules');
const dir = mkdtempSync(join(tmpdir(), 'wasmloop-user-'));
const app = join(dir, 'myapp');
test.after(() => {
  killAllChildren();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a command to completion in `cwd`; fails the test on a non-zero status. */
function sh(cmd: string, args: string[], cwd = app, timeout = 60_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout });
  assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.error?.message ?? ''}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

test('the packed tarball installs without scripts and with no network', () => {
  sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], ROOT);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  mkdirSync(app);
  const link = (name: string) => `file:${join(DEPS, name)}`;
  const deps = ['assemblyscript', 'binaryen', 'long', '@wasmer/wasi'];
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'myapp',
      private: true,
      dependencies: Object.fromEntries(deps.map((d) => [d, link(d)])),
    }),
  );
  const npmInstall = ['install', join(dir, tarball), '--ignore-scripts', '--offline'];
  sh('npm', [...npmInstall, '--no-audit', '--no-fund']);
  const pkg = join(app, 'node_modules', 'wasmloop');
  assert.ok(existsSync(join(pkg, 'prebuilds', 'linux-x64', 'node.napi.node')), 'the prebuilt shim');
  assert.not.ok(existsSync(join(pkg, 'build')), 'no build/ in the package');
});

test('wasmloop init, a changed handler, npm test: built and tested over the simulated kernel', () => {
  sh(process.execPath, ['node_modules/.bin/wasmloop', 'init', '.']);
  const entry = join(app, 'src', 'app.ts');
  writeFileSync(entry, readFileSync(entry, 'utf8').replace('"Hello from "', '"Hi from "'));
  const unit = join(app, 'tests', 'app.test.mjs');
  writeFileSync(unit, readFileSync(unit, 'utf8').replace('/Hello from ', '/Hi from '));
  const out = sh('npm', ['test']);
  assert.match(out, 'wasmloop: built build/app.wasm');
  assert.match(out, /# pass 1\n# fail 0/);
});

const SERVE = `import { createLoop } from 'wasmloop';
const loop = await createLoop({ module: 'build/app.wasm', listen: [{ host: '127.0.0.1', port: 0 }] });
const res = await fetch(\`http://127.0.0.1:\${loop.addresses()[0].port}/there\`);
process.stdout.write(await res.text());
await loop.close({ graceMs: 0 });
`;

test('createLoop serves the app, with the prebuilt native shim', () => {
  writeFileSync(join(app, 'serve.mjs'), SERVE);
  assert.is(sh(process.execPath, ['serve.mjs']), 'Hi from /there\n');
});

test('runCommand runs a WASI command on its own thread, from the built package', () => {
  const script = `import { runCommand } from 'wasmloop';
const status = await runCommand({ module: ${JSON.stringify(join(ROOT, 'wasm/test/cmd-tool.wasm'))}, args: ['t', 'exit', '3'] });
process.stdout.write(\`status \${status}\\n\`);
`;
  writeFileSync(join(app, 'command.mjs'), script);
  assert.is(sh(process.execPath, ['command.mjs']), 'status 3\n');
});

test('wasmloop run serves the app', async () => {
  const child = startChild(
    process.execPath,
    ['node_modules/.bin/wasmloop', 'run', 'build/app.wasm', '--tcplisten', '127.0.0.1:0'],
    { cwd: app },
  );
  const port = await waitFor(
    () => /serving build\/app\.wasm on 127\.0\.0\.1:(\d+)/.exec(child.stderr())?.[1],
    'the serving line',
    20_000,
  );
  const res = await fetch(`http://127.0.0.1:${port}/run`);
  assert.is(await res.text(), 'Hi from /run\n');
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

const CONSUMER = `import { createLoop, runCommand, type WasmLoop } from 'wasmloop';
import { forEachSeed, loadGuest, seededFaults, seeds, type GuestSim } from 'wasmloop/testing';

export async function check(): Promise<WasmLoop> {
  await forEachSeed(seeds(3), async (seed) => {
    const sim: GuestSim = await loadGuest('build/app.wasm', { seed, faults: seededFaults(seed) });
    sim.connect().write('GET / HTTP/1.1\\r\\n\\r\\n');
    sim.run();
    sim.advance(1000);
  });
  return createLoop({ module: 'build/app.wasm', listen: [{ host: '127.0.0.1', port: 0 }] });
}
export const status: Promise<number> = runCommand({
  module: 'tool.wasm',
  args: ['tool.wasm'],
  listen: [{ host: '127.0.0.1', port: 0 }],
  backend: 'node',
  dirs: [{ host: '.', guest: '/data' }],
  signal: AbortSignal.timeout(1000),
  onListening: (addresses) => addresses.map((a) => a.port),
});
// @ts-expect-error the types are real: a backend is 'wasmer' or 'node'
export const badBackend = runCommand({ module: 'tool.wasm', backend: 'wasmtime' });
// @ts-expect-error the types are real: a seed is a number
export const wrong = loadGuest('build/app.wasm', { seed: 'one' });
`;

test('a consumer type-checks against the installed types, wasmloop/testing included', () => {
  symlinkSync(join(DEPS, '@types'), join(app, 'node_modules', '@types'));
  writeFileSync(join(app, 'consumer.mts'), CONSUMER);
  const options = { module: 'NodeNext', target: 'ES2022', strict: true, noEmit: true };
  const config = { compilerOptions: { ...options, types: ['node'] }, files: ['consumer.mts'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
  const tsc = join(DEPS, 'typescript', 'bin', 'tsc');
  assert.is(sh(process.execPath, [tsc, '-p', app]), '');
});

test.run();
