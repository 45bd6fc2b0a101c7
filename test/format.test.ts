/**
 * scripts/format.js: Prettier at width 100 for TS, AS and JS. AssemblyScript's top-level
 * decorators (`@inline export function`, `@external(...) declare function`) are refused by
 * TypeScript's grammar, so the script masks them while Prettier runs; these cases check that
 * they come back unchanged and in place, that AS keeps its double quotes and the host its single
 * ones, and that `--check` fails on an unformatted file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error: a plain JS build script, without types
import { formatted } from '../scripts/format.js';
import { ROOT } from './helpers/cmd-spawn.ts';

const format = (file: string, text: string) =>
  (formatted as (f: string, t: string) => Promise<string>)(join(ROOT, file), text);

test('top-level AS decorators survive formatting, on their own line or inline', async () => {
  const source = [
    '@inline export function one(): i32 { return 1 }',
    '@external("wasmloop", "accept")',
    'export declare function wl_accept(listener: i32): i32;',
    '// @ts-ignore: decorator',
    '@lazy const TABLE = memory.data<u8>(256);',
    '',
  ].join('\n');
  assert.equal(
    await format('assembly/planted.ts', source),
    [
      '@inline export function one(): i32 {',
      '  return 1;',
      '}',
      '@external("wasmloop", "accept")',
      'export declare function wl_accept(listener: i32): i32;',
      '// @ts-ignore: decorator',
      '@lazy const TABLE = memory.data<u8>(256);',
      '',
    ].join('\n'),
  );
});

test("AS syntax TypeScript's parser misreads is formatted, in double quotes", async () => {
  const out = await format(
    'assembly/planted.ts',
    "const s = 'x';\nconst n = 1 << (load<i32>(p) + 2);\n",
  );
  assert.equal(out, 'const s = "x";\nconst n = 1 << (load<i32>(p) + 2);\n');
});

test('host code keeps single quotes and breaks lines past 100 columns', async () => {
  const long = `const message = "${'x'.repeat(70)}" + String(someValue) + "${'y'.repeat(10)}";\n`;
  const out = await format('host/planted.ts', long);
  assert.ok(out.startsWith("const message =\n  '"), out);
  assert.ok(out.split('\n').every((line) => line.length <= 100));
});

test('--check fails on an unformatted file and names it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-format-'));
  try {
    const file = join(dir, 'ugly.ts');
    writeFileSync(file, 'const a = {b:1}\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/format.js'), '--check', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ugly\.ts: not formatted/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
