/**
 * The limits a user can set are documented where users look: README's limits table, SECURITY.md
 * and `--help`, each with the default the code uses. A limit added to KNOWN_LIMITS without its
 * documentation, or a default changed in one place only, fails here.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { HELP } from '../host/cli.ts';
import { KNOWN_LIMITS } from '../host/limits.ts';

const test = suite('docs: limits');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const security = readFileSync(new URL('../docs/SECURITY.md', import.meta.url), 'utf8');

/** README's limits table: name -> default, from rows "| `name` | default | ...". */
function readmeTable(): Map<string, number> {
  const section = readme.slice(readme.indexOf('### Limits'));
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| `([a-z-]+)` \| (\d+) \|/gm)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

test('README lists every limit with the default the code uses, and no other', () => {
  const rows = readmeTable();
  for (const [name, l] of Object.entries(KNOWN_LIMITS)) assert.is(rows.get(name), l.default, `README row for ${name}`);
  for (const name of rows.keys()) assert.ok(Object.hasOwn(KNOWN_LIMITS, name), `README lists ${name}, which the code does not know`);
});

test('--help lists every limit with its default', () => {
  for (const [name, l] of Object.entries(KNOWN_LIMITS)) assert.ok(HELP.includes(`${name}=${l.default}`), `--help: ${name}=${l.default}`);
});

test('SECURITY.md names every limit', () => {
  for (const name of Object.keys(KNOWN_LIMITS)) assert.ok(security.includes(`\`${name}\``), `SECURITY.md: ${name}`);
});

test.run();
