/**
 * A limit's default is written twice: in its declaration (host/limits.ts HOST_LIMITS for the
 * host's names, assembly/limits/*.json for a guest's, which the build puts into the module's
 * `wasmloop.limits` section and `--help` prints), and in the guest code's fallback
 * (`limit("NAME", FALLBACK)`, used when a host hands the guest nothing). The host always hands a
 * declared default, so the two never disagree at run time; this test keeps the copies equal
 * anyway, so the code a reader opens says what `--help` says, as test/abi-constants.test.ts does
 * for the ABI's numbers.
 *
 * An app that changes an SDK default does it twice too: `http.defaults.maxBodyBytes = N` in its
 * code and `max-body-bytes=N` on its `// @limits` line. Each must have the other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOST_LIMITS } from '../host/limits.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every AssemblyScript source under assembly/, by path. */
function guestSources(): Map<string, string> {
  const files = readdirSync(join(ROOT, 'assembly'), { recursive: true, encoding: 'utf8' });
  return new Map(
    files.filter((f) => f.endsWith('.ts')).map((f) => [`assembly/${f}`, read(`assembly/${f}`)]),
  );
}

/** A number literal as AS writes it (`10_000`, `1048576`). */
const literal = (text: string) => Number(text.replace(/_/g, ''));

/** The value of `NAME` in the sources: a `const NAME: T = N` or an HttpDefaults field `NAME: T = N`. */
function valueOf(name: string, sources: Map<string, string>): number | undefined {
  const field = /^defaults\.(\w+)$/.exec(name);
  const pattern = field
    ? new RegExp(`^\\s+${field[1]}: \\w+ = ([\\d_.]+);`, 'm')
    : new RegExp(`\\bconst ${name}: \\w+ = ([\\d_.]+);`);
  for (const text of sources.values()) {
    const m = pattern.exec(text);
    if (m) return literal(m[1]!);
  }
  return undefined;
}

/** Each `limit("NAME", FALLBACK)` call: [file, name, fallback expression]. */
function fallbacks(sources: Map<string, string>): [string, string, string][] {
  const calls: [string, string, string][] = [];
  for (const [file, text] of sources) {
    for (const m of text.matchAll(/\blimit\("([a-z0-9-]+)", ([\w.]+)\)/g)) {
      calls.push([file, m[1]!, m[2]!]);
    }
  }
  return calls;
}

/** Every declared default: HOST_LIMITS and each assembly/limits/*.json, by name. */
function declaredDefaults(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (name: string, value: number) => out.set(name, [...(out.get(name) ?? []), value]);
  for (const [name, spec] of Object.entries(HOST_LIMITS)) add(name, spec.default);
  for (const f of readdirSync(join(ROOT, 'assembly/limits')).filter((n) => n.endsWith('.json'))) {
    const specs = JSON.parse(read(`assembly/limits/${f}`)) as Record<string, { default: number }>;
    for (const [name, spec] of Object.entries(specs)) add(name, spec.default);
  }
  return out;
}

/** Fallbacks that mean "not given" on purpose rather than a default (the host always gives it). */
const NOT_A_DEFAULT = new Set(['max-memory-size']);

test("every guest fallback equals the limit's declared default", () => {
  const sources = guestSources();
  const declared = declaredDefaults();
  const calls = fallbacks(sources).filter(([, name]) => !NOT_A_DEFAULT.has(name));
  assert.ok(calls.length >= 12, `found ${calls.length} limit() calls`);
  const wrong = calls.flatMap(([file, name, expr]) => {
    const value = valueOf(expr, sources);
    const defaults = declared.get(name);
    if (value === undefined) return [`${file}: ${name}: cannot read the value of ${expr}`];
    if (defaults === undefined) return [`${file}: ${name} is read but declared nowhere`];
    return defaults
      .filter((d) => d !== value)
      .map((d) => `${file}: ${name} = ${value}, declared ${d}`);
  });
  assert.equal(wrong, []);
});

/** An app's `// @limits` overrides (`name=N`) and its `http.defaults.FIELD = N` assignments. */
function appOverrides(text: string, fieldToName: Map<string, string>) {
  const line = /^\/\/ @limits\b(.*)$/m.exec(text)?.[1] ?? '';
  const declared = [...line.matchAll(/([a-z0-9-]+)=(\d+)/g)].map(
    (m) => `${m[1]}=${literal(m[2]!)}`,
  );
  const assigned = [...text.matchAll(/^http\.defaults\.(\w+) = ([\d_]+);/gm)].map(
    (m) => `${fieldToName.get(m[1]!) ?? `defaults.${m[1]}`}=${literal(m[2]!)}`,
  );
  return { declared: declared.sort(), assigned: assigned.sort() };
}

test("an app's changed SDK defaults are on its @limits line, and only those", () => {
  const sources = guestSources();
  const fieldToName = new Map(
    fallbacks(sources)
      .filter(([, , expr]) => expr.startsWith('defaults.'))
      .map(([, name, expr]) => [expr.slice('defaults.'.length), name] as const),
  );
  let apps = 0;
  for (const [file, text] of sources) {
    if (!file.startsWith('assembly/apps/')) continue;
    const { declared, assigned } = appOverrides(text, fieldToName);
    assert.equal(declared, assigned, file);
    apps += declared.length;
  }
  assert.ok(apps >= 2, 'the shipped apps change two SDK defaults (inspect, notes)');
});

test('the readers of the checks see a planted disagreement', () => {
  const planted = new Map([['a.ts', 'const X_MS: f64 = 5_000;\nlimit("x-ms", X_MS);\n']]);
  assert.equal(fallbacks(planted), [['a.ts', 'x-ms', 'X_MS']]);
  assert.equal(valueOf('X_MS', planted), 5000);
  const app = '// @limits http max-body-bytes=10\nhttp.defaults.maxBodyBytes = 11;\n';
  assert.equal(appOverrides(app, new Map([['maxBodyBytes', 'max-body-bytes']])), {
    declared: ['max-body-bytes=10'],
    assigned: ['max-body-bytes=11'],
  });
});

test.run();
