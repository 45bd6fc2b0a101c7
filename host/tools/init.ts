/**
 * `wasmloop init <dir>`: a minimal HTTP app in the user's own project: its AssemblyScript entry,
 * a unit test over the simulated kernel (node:test and wasmloop/testing), and npm scripts to
 * build, test and serve it. Files that exist are never overwritten; scripts the project already
 * has are kept.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { WasmloopError } from '../errors.ts';

const APP = `// @runtime incremental
// @limits http
// The app: \`npm run build\` compiles it to build/app.wasm, \`npm test\` tests it over the
// simulated kernel, \`npm start\` serves it on 127.0.0.1:8080. The guide: wasmloop's docs/GUEST.md.
import * as http from "wasmloop/http";

// The exports the host looks for (wasmloop's docs/ABI.md).
export * from "wasmloop/guest";

http.serve((req: http.Request, res: http.Response): void => {
  res.header("Content-Type", "text/plain; charset=utf-8");
  res.end("Hello from " + req.path + "\\n");
});
`;

const TEST = `// The app over wasmloop's simulated kernel: no sockets, a virtual clock, scripted peers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadGuest } from 'wasmloop/testing';

test('GET answers 200 with a greeting', async () => {
  const sim = await loadGuest('build/app.wasm');
  const peer = sim.connect();
  peer.write('GET /there HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n');
  sim.run();
  const reply = peer.readText();
  assert.match(reply, /^HTTP\\/1\\.1 200 OK\\r\\n/);
  assert.match(reply, /Hello from \\/there\\n$/);
});
`;

const SCRIPTS: Record<string, string> = {
  build: 'wasmloop build src/app.ts -o build/app.wasm',
  pretest: 'npm run build',
  test: 'node --test',
  start: 'wasmloop run build/app.wasm --tcplisten 127.0.0.1:8080',
};

const FILES: [path: string, text: string][] = [
  ['src/app.ts', APP],
  ['tests/app.test.mjs', TEST],
  ['.gitignore', 'node_modules/\nbuild/\n'],
];

/** Writes the app into `dir` (created if need be); returns the paths written, relative to it. */
export function initApp(dir: string): string[] {
  const clashes = FILES.map(([path]) => path)
    .filter((path) => path !== '.gitignore')
    .filter((path) => existsSync(join(dir, path)));
  if (clashes.length > 0) {
    throw new WasmloopError(
      'ERR_WASMLOOP_USAGE',
      `init: ${dir} already has ${clashes.join(', ')}; nothing was written`,
    );
  }
  const written: string[] = [];
  for (const [path, text] of FILES) {
    if (existsSync(join(dir, path))) continue;
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    written.push(path);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(withScripts(dir), null, 2) + '\n');
  written.push('package.json');
  return written;
}

/** The project's package.json (a new one when it has none) with SCRIPTS it does not define. */
function withScripts(dir: string): Record<string, unknown> {
  const path = join(dir, 'package.json');
  const pkg = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)
    : { name: basename(resolve(dir)), private: true, type: 'module' };
  const scripts = { ...(pkg['scripts'] as Record<string, string> | undefined) };
  for (const [name, command] of Object.entries(SCRIPTS)) {
    // npm init's placeholder test script is replaced; any other script of the user's is kept.
    if (scripts[name] === undefined || scripts[name]!.includes('no test specified'))
      scripts[name] = command;
  }
  return { ...pkg, scripts };
}

/** `wasmloop init <dir>`: resolves to the exit status (0); lists what it wrote on stderr. */
export function initCommand(argv: string[]): number {
  if (argv.length !== 1 || argv[0]!.startsWith('-')) {
    throw new WasmloopError(
      'ERR_WASMLOOP_USAGE',
      'init takes one directory: wasmloop init <dir> (see wasmloop --help)',
    );
  }
  const written = initApp(argv[0]!);
  process.stderr.write(
    `wasmloop: wrote ${written.join(', ')} in ${argv[0]}\n` +
      'wasmloop: next: npm run build, npm test, npm start\n',
  );
  return 0;
}
