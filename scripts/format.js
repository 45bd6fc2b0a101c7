#!/usr/bin/env node
// Formats the project's TypeScript, AssemblyScript and JavaScript with Prettier (`--check` only
// reports). Options live in .prettierrc.json; .editorconfig carries the same width and indent.
//
// AssemblyScript puts decorators on top-level functions, constants and `declare` imports
// (`@inline export function`, `@external("env", "x") declare function`), which TypeScript's
// grammar, and so Prettier's parser, refuses. Such a decorator is turned into a marker comment
// of its own before formatting and turned back after, so the AS sources are formatted by the
// same rules as the host's. Any other syntax error is reported as it is.
import { readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as prettier from 'prettier';

const SOURCES = ['*.ts', '*.js', '*.mjs'];
const TOP_LEVEL_DECORATOR =
  /^([ \t]*)@(\w+(?:\([^)\n]*\))?)(\s+)(?=(?:export\s+)?(?:declare\s+)?(?:function|const|let|var|namespace)\b)/gm;
const MARKER = /\/\*@wasmloop-decorator (.*?)\*\//g;

/** Hides top-level decorators in marker comments; `unmask` is its inverse. */
function mask(text) {
  return text.replace(
    TOP_LEVEL_DECORATOR,
    (_m, indent, deco, gap) => `${indent}/*@wasmloop-decorator ${deco}*/${gap}`,
  );
}
function unmask(text) {
  return text.replace(MARKER, (_m, deco) => `@${deco}`);
}

/** `text` as Prettier formats it for a file at `file` (the path picks the options). */
export async function formatted(file, text) {
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  const masked = mask(text);
  const out = await prettier.format(masked, options);
  return masked === text ? out : unmask(out);
}

async function main() {
  const check = process.argv.includes('--check');
  const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const files = named.length
    ? named
    : execFileSync('git', ['ls-files', ...SOURCES], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
  const bad = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    let out;
    try {
      out = await formatted(file, text);
    } catch (err) {
      bad.push(`${file}: ${err.message.split('\n')[0]}`);
      continue;
    }
    if (out === text) continue;
    if (check) bad.push(`${file}: not formatted (npm run format)`);
    else await writeFile(file, out);
  }
  for (const line of bad) console.error(line);
  if (bad.length) process.exit(1);
  if (check) console.log(`format: ${files.length} files formatted`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
