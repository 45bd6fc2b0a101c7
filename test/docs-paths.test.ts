/**
 * Every repository path a doc names exists: README.md and docs/*.md point readers at files
 * (`host/guest/loop.ts`, `test/sandbox.test.ts`, `assembly/proto/*`), and a file that moved or
 * never existed (issue 11 found `host/serve.ts` named in a comment) sends them nowhere.
 *
 * A path is a word starting with a source root (host/, assembly/, test/, bench/, fuzz/, scripts/,
 * bin/, docs/, deploy/, .ci/), optionally behind `./` or `../`. `*` globs must match at least one file,
 * `{a,b}` lists are expanded. Paths through a build/, wasm/ or dist/ folder (wasm/hello.wasm,
 * bench/build/) are made by `npm install` or the bench, so they are not checked here. A doc that wants a hypothetical file says so in words ("a file in test/props/").
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GENERATED = /(^|\/)(build|wasm|dist)\//;
const PATH =
  /(?<![\w./-])(?:\.\.?\/)?((?:host|assembly|test|bench|fuzz|scripts|bin|docs|deploy|examples|\.ci)\/[\w./*{},-]*)/g;

/** The repository's files, relative to the root, for matching globs. */
function repositoryFiles(): string[] {
  const skip = /^(node_modules|build|wasm|dist|\.git)(\/|$)/;
  return readdirSync(ROOT, { recursive: true, encoding: 'utf8' }).filter((f) => !skip.test(f));
}

/** `a.{md,json}` -> [`a.md`, `a.json`] (one brace list is all the docs use). */
function expandBraces(path: string): string[] {
  const m = /^(.*)\{([^}]*)\}(.*)$/.exec(path);
  return m ? m[2]!.split(',').map((alt) => `${m[1]}${alt}${m[3]}`) : [path];
}

function exists(path: string, files: string[]): boolean {
  if (!path.includes('*')) return existsSync(join(ROOT, path));
  const glob = new RegExp(`^${path.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return files.some((f) => glob.test(f) || glob.test(`${f}/`));
}

/** The paths `text` names that do not exist, each with its line number. */
export function missingPaths(text: string, files: string[]): string[] {
  const missing: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(PATH)) {
      const named = m[1]!.includes('{') ? m[1]! : m[1]!.replace(/[.,]+$/, '');
      if (GENERATED.test(named)) continue;
      for (const path of expandBraces(named.replace(/[.,]+$/, ''))) {
        if (!exists(path, files)) missing.push(`line ${i + 1}: ${path}`);
      }
    }
  });
  return missing;
}

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

test('every repository path README.md and docs/*.md name exists', () => {
  const files = repositoryFiles();
  const missing = DOCS.flatMap((doc) =>
    missingPaths(readFileSync(join(ROOT, doc), 'utf8'), files).map((m) => `${doc} ${m}`),
  );
  assert.equal(missing, []);
});

test('the check finds a planted bad path, a bad glob and a bad brace alternative', () => {
  const files = repositoryFiles();
  const planted = [
    'The driver (`host/serve.ts`) calls tick.',
    'See ./host/guest/loop.ts and host/guest/nope.ts, then assembly/proto/*.c.',
    'Results go to bench/results/latest.{md,pdf}.',
    'Not a path: a/host/serve.ts; fine: host/guest/, assembly/proto/*, test/http/*.txt.',
    'Generated, not checked: bench/build/echo-load.',
  ].join('\n');
  assert.equal(missingPaths(planted, files), [
    'line 1: host/serve.ts',
    'line 2: host/guest/nope.ts',
    'line 2: assembly/proto/*.c',
    'line 3: bench/results/latest.pdf',
  ]);
});

test.run();
