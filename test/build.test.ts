/**
 * `wasmloop build` and `wasmloop init` (host/tools/), in a temporary project whose
 * node_modules/wasmloop is this repository, as the package is for a user's app: apps import
 * "wasmloop/http" and "wasmloop/guest", a build that does not compile names the file and line,
 * a module `wasmloop run` would refuse is not written, and init writes an app that builds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT, main } from '../host/cli.ts';
import { WasmloopError } from '../host/errors.ts';
import { declaredLimits } from '../host/limits.ts';
import { checkGuest } from '../host/module.ts';
import { loadGuest } from '../host/testing.ts';
import { buildGuest } from '../host/tools/build.ts';
import { initApp } from '../host/tools/init.ts';

const test = suite('build');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wasmloop-build-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(ROOT, join(dir, 'node_modules', 'wasmloop'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Builds `source` saved as `name` in the project (paths relative to it, as a user's are). */
async function build(name: string, source: string, out = name.replace(/\.ts$/, '.wasm')) {
  writeFileSync(join(dir, name), source);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await buildGuest({ entry: name, out });
  } finally {
    process.chdir(cwd);
  }
}

const ECHO_HTTP = `// @limits http max-body-bytes=100
import * as http from "wasmloop/http";
export * from "wasmloop/guest";
http.serve((req: http.Request, res: http.Response): void => { res.end("got " + req.path); });
`;

test('an app in its own project imports wasmloop/http and wasmloop/guest, and serves', async () => {
  const built = await build('hi.ts', `// @runtime incremental\n${ECHO_HTTP}`);
  assert.is(built.runtime, 'incremental');
  const bytes = readFileSync(join(dir, 'hi.wasm'));
  const module = new WebAssembly.Module(bytes);
  checkGuest(module);
  assert.is(declaredLimits(module)?.['max-body-bytes']?.default, 100, 'the @limits line');
  const sim = await loadGuest(bytes);
  const peer = sim.connect();
  peer.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
  sim.run();
  assert.match(peer.readText(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ngot \/x$/);
});

test('a guest of the socket API imports wasmloop/socket', async () => {
  const source = `import { serve, connWrite } from "wasmloop/socket";
export * from "wasmloop/guest";
function data(slot: u32, ptr: usize, len: i32): i32 { return connWrite(slot, ptr, len); }
serve(data);
`;
  await build('raw.ts', source);
  checkGuest(new WebAssembly.Module(readFileSync(join(dir, 'raw.wasm'))));
});

test('a compile error names the file and line, and nothing is written', async () => {
  const err = await build('bad.ts', `export * from "wasmloop/guest";\nlet x: i32 = "no";\n`).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, WasmloopError);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_BUILD');
  assert.match((err as Error).message, 'bad.ts(2,');
  assert.not.ok(existsSync(join(dir, 'bad.wasm')));
});

test('a module run would refuse is not written: an import the host lacks', async () => {
  const source = `export * from "wasmloop/guest";
@external("env", "nope") declare function nope(): void;
export function poke(): void { nope(); }
`;
  const err = await build('imports.ts', source).catch((e: unknown) => e);
  assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_IMPORT');
  assert.not.ok(existsSync(join(dir, 'imports.wasm')));
});

test('the CLI: build exits 73 on a compile error, 64 on a bad command line', async () => {
  writeFileSync(join(dir, 'worse.ts'), 'let y: i32 = ;\n');
  assert.is(
    await main(['build', join(dir, 'worse.ts'), '-o', join(dir, 'worse.wasm')]),
    EXIT.build,
  );
  assert.is(await main(['build']), EXIT.usage);
  assert.is(await main(['build', 'a.ts', '--fast']), EXIT.usage);
});

test('init writes an app, its test and scripts, keeps the user scripts, never overwrites', async () => {
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "mine", "scripts": { "start": "mine" } }');
  assert.equal(initApp(app).sort(), [
    '.gitignore',
    'package.json',
    'src/app.ts',
    'tests/app.test.mjs',
  ]);
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
    name: string;
    scripts: Record<string, string>;
  };
  assert.is(pkg.name, 'mine');
  assert.is(pkg.scripts['start'], 'mine', "the user's own script is kept");
  assert.is(pkg.scripts['build'], 'wasmloop build src/app.ts -o build/app.wasm');
  assert.throws(() => initApp(app), /already has src\/app\.ts, tests\/app\.test\.mjs/);
  const source = readFileSync(join(app, 'src', 'app.ts'), 'utf8');
  await build('from-init.ts', source);
});

test('wasmloop/http re-exports all of the SDK (AssemblyScript cannot import * a star export)', () => {
  const names = (file: string) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^export \{([^}]*)\}/gm)]
      .flatMap((m) => m[1]!.split(','))
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .sort();
  assert.equal(names('http.ts'), names('assembly/http/index.ts'));
});

test.run();
