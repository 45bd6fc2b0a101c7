/**
 * The limits a user can set are documented where users look: README's limits table, SECURITY.md
 * and `--help`, each with the default the code uses. The host's limits come from HOST_LIMITS;
 * the guests' from their declarations (assembly/limits/*.json, which the build puts into each
 * shipped module's `wasmloop.limits` section). A limit declared without its documentation, or
 * a default changed in one place only, fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { HELP } from '../host/cli.ts';
import { declaredLimits, HOST_LIMITS, type LimitSpec } from '../host/limits.ts';

const test = suite('docs: limits');
const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const security = readFileSync(new URL('docs/SECURITY.md', root), 'utf8');

/** The declaration files the shipped guests are built with, merged: name -> spec. */
function declarationFiles(): Record<string, LimitSpec> {
  const out: Record<string, LimitSpec> = {};
  for (const f of readdirSync(new URL('assembly/limits/', root)).filter((n) =>
    n.endsWith('.json'),
  )) {
    Object.assign(
      out,
      JSON.parse(readFileSync(new URL(`assembly/limits/${f}`, root), 'utf8')) as Record<
        string,
        LimitSpec
      >,
    );
  }
  return out;
}

/** Every name a shipped module (wasm/*.wasm) declares in its section. */
function shippedNames(): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(new URL('wasm/', root)).filter((n) => n.endsWith('.wasm'))) {
    const module = new WebAssembly.Module(readFileSync(new URL(`wasm/${f}`, root)));
    for (const name of Object.keys(declaredLimits(module) ?? {})) names.add(name);
  }
  return [...names];
}

/** Every documented limit with the default the code uses: the host's and the declared ones. */
const ALL: Record<string, LimitSpec> = { ...HOST_LIMITS, ...declarationFiles() };

/** README's limits table: name -> default, from rows "| `name` | default | ...". */
function readmeTable(): Map<string, number> {
  const section = readme.slice(readme.indexOf('### Limits'));
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| `([a-z-]+)` \| (\d+) \|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

test('every limit a shipped module declares comes from a declaration file', () => {
  const names = shippedNames();
  assert.ok(
    names.includes('max-body-bytes') && names.includes('max-frame-bytes'),
    'the shipped guests declare their limits',
  );
  for (const name of names)
    assert.ok(
      Object.hasOwn(ALL, name),
      `a shipped module declares ${name}, no declaration file does`,
    );
});

test('README lists every limit with the default the code uses, and no other', () => {
  const rows = readmeTable();
  for (const [name, l] of Object.entries(ALL))
    assert.is(rows.get(name), l.default, `README row for ${name}`);
  for (const name of rows.keys())
    assert.ok(Object.hasOwn(ALL, name), `README lists ${name}, which nothing declares`);
});

test("--help lists every host limit with its default, and says how to see a module's", () => {
  for (const [name, l] of Object.entries(HOST_LIMITS))
    assert.ok(HELP.includes(`${name}=${l.default}`), `--help: ${name}=${l.default}`);
  assert.ok(HELP.includes('wasmloop limits'), '--help names `wasmloop limits MODULE`');
});

test('SECURITY.md names every limit', () => {
  for (const name of Object.keys(ALL))
    assert.ok(security.includes(`\`${name}\``), `SECURITY.md: ${name}`);
});

test.run();
