/**
 * Every code name the docs give exists: README.md and docs/*.md send readers to functions,
 * classes and exports (`Loop.dispatch`, `wl_dispatch`, `host/guest/io-batch.ts` `IoBatch.run`,
 * `import { createLoop } from 'wasmloop'`), and a name that was renamed or split away sends
 * them nowhere, as a moved file does (test/docs-paths.test.ts checks the files).
 *
 * Three checks:
 * - a backticked path followed by a backticked name (`host/cli.ts` `main`): the name is declared
 *   in that file (its first part; a later `.part` appears in the file);
 * - any other backticked token that looks like code (camelCase, snake_case, `a.b`, `f()`) is a
 *   word of some source file;
 * - every name a doc imports from 'wasmloop' is exported by host/index.ts.
 * Names of other software (Node, V8, libuv, nginx, WASI's spec) are listed in FOREIGN.
 * PERFORMANCE.md is a dated record of measurements of the code as it was then, so its names
 * are not checked (its paths are).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = [
  ...['host', 'assembly', 'test', 'bench', 'fuzz', 'scripts', 'bin', '.ci', 'deploy', 'examples'],
  ...['tsconfig.json', 'package.json', 'guest.ts', 'http.ts', 'socket.ts'],
];
const SOURCE = /\.(ts|js|c|h|json|rs)$|^\.ci\/run$|^deploy\//; // deploy/: the Dockerfile, manifests

/** Names of other software's APIs that the docs mention on purpose. */
const FOREIGN = new Set([
  ...['vm.Script', 'breakOnSigint', 'Session.connectToMainThread', 'Runtime.terminateExecution'],
  ...['globalThis', 'client_body_timeout', 'UV_METRICS_IDLE_TIME', 'uv__io_poll'],
  ...['O_CREAT', 'file_descriptor', 'subscription_clock_abstime', 'KNOWN_BUGS', 'lib.rs'],
]);
/** A doc's placeholder for a family of names (`wl_abi_version_N`). */
const PLACEHOLDER = /_N$|^NAME\b/;
const CODE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\(\))*$/;
const LOOKS_LIKE_CODE = /[a-z][A-Z]|_|\.|\(\)/;
const PATH_THEN_NAME = /`((?:host|assembly|test|bench|fuzz|scripts|bin)\/[\w./-]+)`\s+`([^`\s]+)`/g;

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', ...SOURCE_DIRS], { cwd: ROOT, encoding: 'utf8' });
  // This file names missing things on purpose (the planted case), so it is not a source here.
  return listed.split('\n').filter((f) => SOURCE.test(f) && f !== 'test/docs-names.test.ts');
}

/** Every identifier-like word of the project's sources. */
function sourceWords(files: string[]): Set<string> {
  const words = new Set<string>();
  for (const f of files) {
    for (const w of readFileSync(join(ROOT, f), 'utf8').match(/[A-Za-z_$][\w$]*/g) ?? []) {
      words.add(w);
    }
  }
  return words;
}

/** `Loop.wait`, `hostcalls().recv_many`, `f()` -> its parts: Loop, wait / hostcalls, recv_many. */
const parts = (name: string) => name.replace(/\(\)/g, '').split('.').filter(Boolean);

/** Whether `file` declares `name` (a function, class, method, constant, type or C function). */
export function declares(text: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  const declaration = new RegExp(
    `(?:function\\*?|class|const|let|var|type|interface|enum|namespace|#define)\\s+${n}\\b` +
      `|^\\s*(?:(?:export|static|async|private|public|get|set|readonly)\\s+)*${n}\\s*[(<:=?]` +
      `|\\b${n}\\s*\\([^;{]*\\)\\s*(?::[^{;]+)?\\{` +
      `|\\bexport\\s*\\{[^}]*\\b${n}\\b`,
    'm',
  );
  return declaration.test(text);
}

/** The names `text` gives that do not exist, each with its line number. */
export function missingNames(text: string, words: Set<string>, read: (p: string) => string | null) {
  const missing: string[] = [];
  text
    .replace(/```[\s\S]*?```/g, (block) => block.replace(/[^\n]/g, ''))
    .split('\n')
    .forEach((line, i) => {
      const paired = new Set<string>();
      for (const [, path, name] of line.matchAll(PATH_THEN_NAME)) {
        if (!CODE.test(name!) || FOREIGN.has(name!)) continue;
        paired.add(name!);
        const file = read(path!);
        const [first, ...rest] = parts(name!);
        const ok =
          file !== null &&
          declares(file, first!) &&
          rest.every((p) => new RegExp(`\\b${p}\\b`).test(file));
        if (!ok) missing.push(`line ${i + 1}: ${path} ${name}`);
      }
      for (const [, token] of line.matchAll(/`([^`\s]+)`/g)) {
        if (!CODE.test(token!) || !LOOKS_LIKE_CODE.test(token!)) continue;
        if (FOREIGN.has(token!) || PLACEHOLDER.test(token!) || paired.has(token!)) continue;
        if (parts(token!).some((p) => !words.has(p))) missing.push(`line ${i + 1}: ${token}`);
      }
    });
  return missing;
}

/** The names a doc's code imports from the package. */
export function importedNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"]wasmloop['"]/g)) {
    names.push(
      ...m[1]!.split(',').map(
        (s) =>
          s
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)[0]!,
      ),
    );
  }
  return names.filter(Boolean);
}

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const readDoc = (doc: string) => readFileSync(join(ROOT, doc), 'utf8');
const readSource = (path: string): string | null => {
  try {
    return readFileSync(join(ROOT, path), 'utf8');
  } catch {
    return null;
  }
};

test('every code name README.md and docs/*.md give exists where they say', () => {
  const words = sourceWords(sourceFiles());
  const missing = DOCS.filter((d) => d !== 'docs/PERFORMANCE.md').flatMap((doc) =>
    missingNames(readDoc(doc), words, readSource).map((m) => `${doc} ${m}`),
  );
  assert.equal(missing, []);
});

test('every name the docs import from wasmloop is one of its exports', async () => {
  const api = (await import('../host/index.ts')) as Record<string, unknown>;
  const index = readFileSync(join(ROOT, 'host/index.ts'), 'utf8');
  const missing = DOCS.flatMap((doc) =>
    importedNames(readDoc(doc))
      .filter(
        (n) => !(n in api) && !new RegExp(`export\\s+(type|interface)\\s+${n}\\b`).test(index),
      )
      .filter((n) => !new RegExp(`export\\s+type\\s*\\{[^}]*\\b${n}\\b`).test(index))
      .map((n) => `${doc}: ${n}`),
  );
  assert.equal(missing, []);
});

test('the checks find a planted missing name, method and export', () => {
  const words = sourceWords(sourceFiles());
  const planted = [
    'Setup: `host/cli.ts` `main` → `host/index.ts` `createLoop` → `host/index.ts` `serveForever`.',
    'Then `host/guest/loop.ts` `Loop.wait` and `host/guest/loop.ts` `Loop.unwindAll`.',
    'The guest calls `wl_dispatch` and `wl_dispatch_all`; `Loop.dispatch`, `Loop.rewind`.',
    '```ts',
    'import { createLoop, startServer } from "wasmloop";',
    '```',
  ].join('\n');
  assert.equal(missingNames(planted, words, readSource), [
    'line 1: host/index.ts serveForever',
    'line 2: host/guest/loop.ts Loop.unwindAll',
    'line 3: wl_dispatch_all',
    'line 3: Loop.rewind',
  ]);
  assert.equal(importedNames(planted), ['createLoop', 'startServer']);
});

test.run();
