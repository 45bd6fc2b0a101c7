/**
 * The project's shape rules, checked so they stay true: no source file over 300 lines and no
 * function body over 40 (docs/DESIGN.md, "Code shape"). The exceptions are the ones the rule
 * names: a state machine whose body is one `switch` (its cases short), and a function whose
 * body is only a table of data (`return [ ... ]` / `return { ... }`).
 *
 * TypeScript and AssemblyScript are measured on TypeScript's syntax tree; C by its braces (a
 * function starts at a line that opens a definition at column 0 and ends at the `}` in
 * column 0, the style of host/native and bench/c).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_FILE_LINES = 300;
const MAX_BODY_LINES = 40;

function sources(): string[] {
  const listed = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.c', '*.h'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed.split('\n').filter(Boolean);
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** A body that is one `switch`, or only returns a literal table, is excepted. */
function excepted(body: ts.Block): boolean {
  const [only, ...rest] = body.statements;
  if (only === undefined || rest.length > 0) return false;
  if (ts.isSwitchStatement(only)) return true;
  const value = ts.isReturnStatement(only) ? only.expression : undefined;
  return (
    value !== undefined &&
    (ts.isArrayLiteralExpression(value) || ts.isObjectLiteralExpression(value))
  );
}

/** `name (file:line) N lines` for each function body over the limit in a TS/AS/JS file. */
export function longFunctions(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isFunctionLike(node) &&
      'body' in node &&
      node.body &&
      ts.isBlock(node.body as ts.Node)
    ) {
      const body = node.body as ts.Block;
      const first = sf.getLineAndCharacterOfPosition(body.getStart()).line;
      const last = sf.getLineAndCharacterOfPosition(body.end).line;
      const inner = last - first - 1;
      if (inner > MAX_BODY_LINES && !excepted(body)) {
        const name = node.name?.getText(sf) ?? '(function)';
        out.push(`${name} (${file}:${first + 1}) ${inner} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The same for C, by brace depth: a top-level `{` whose declaration has a `(` and no `=`
 *  opens a function body; its matching `}` closes it. Strings and comments are dropped first. */
export function longCFunctions(file: string, text: string): string[] {
  const out: string[] = [];
  const code = text.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\/\/.*$/gm, '""');
  let depth = 0;
  let declaration = '';
  let start = -1;
  code.split('\n').forEach((line, i) => {
    for (const ch of line) {
      if (ch === '{' && depth++ === 0 && /\(/.test(declaration) && !/=/.test(declaration))
        start = i;
      else if (ch === '}' && --depth === 0 && start >= 0) {
        const inner = i - start - 1;
        const name = /(\w+)\s*\((?:[^()]|\([^()]*\))*\)[^()]*$/.exec(declaration)?.[1] ?? '?';
        if (inner > MAX_BODY_LINES) out.push(`${name} (${file}:${start + 1}) ${inner} lines`);
        start = -1;
      }
      if (depth === 0) declaration = ch === ';' || ch === '}' ? '' : declaration + ch;
    }
    if (depth === 0) declaration += ' ';
  });
  return out;
}

test(`no source file is over ${MAX_FILE_LINES} lines`, () => {
  const long = sources()
    .map((f) => [f, lineCount(readFileSync(join(ROOT, f), 'utf8'))] as const)
    .filter(([, n]) => n > MAX_FILE_LINES)
    .map(([f, n]) => `${f}: ${n} lines`);
  assert.equal(long, []);
});

test(`no function body is over ${MAX_BODY_LINES} lines`, () => {
  const long = sources().flatMap((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    return /\.[ch]$/.test(f) ? longCFunctions(f, text) : longFunctions(f, text);
  });
  assert.equal(long, []);
});

test('the measures see a planted long function and let the excepted shapes pass', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');
  const cases = (n: number) => Array.from({ length: n }, (_, i) => `    case ${i}: return ${i};`);
  const ts41 = `function long() {\n${lines(41)}\n}\nfunction ok() {\n${lines(40)}\n}\n`;
  assert.equal(longFunctions('a.ts', ts41), ['long (a.ts:1) 41 lines']);
  const sw = `function state(s: i32): i32 {\n  switch (s) {\n${cases(50).join('\n')}\n  }\n}\n`;
  assert.equal(longFunctions('b.ts', sw), []);
  const c = `static int long_one(int x)\n{\n${lines(41)}\n}\nint ok(void) {\n${lines(40)}\n}\n`;
  assert.equal(longCFunctions('c.c', c), ['long_one (c.c:2) 41 lines']);
});

test.run();
