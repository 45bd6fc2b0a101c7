/**
 * One source for the ABI's numbers: host/abi.ts. The C shim and the AssemblyScript SDK cannot
 * import it, so they keep copies in their own languages; this test reads those sources (and
 * docs/ABI.md's tables) and fails when any copy disagrees with host/abi.ts, or when a copy it
 * looks for can no longer be found (a parser that matches nothing must not pass).
 *
 * The AS constants are looked for in every file under assembly/ by declaration, not by file,
 * so they may move between files; each name must be declared at least once and every
 * declaration must agree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import * as abi from '../host/abi.ts';

const test = suite('abi: one source for the numbers');
const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Every .ts file under assembly/, as [path, text]. */
const asFiles: [string, string][] = (
  readdirSync(new URL('assembly/', root), { recursive: true }) as string[]
)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => [`assembly/${f}`, read(`assembly/${f}`)]);

const NUMBER = String.raw`(-?0x[0-9a-fA-F]+|-?\d+)`;

/** `#define WL__NAME value` in a C source or header. */
function cDefines(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of read(path).matchAll(
    new RegExp(String.raw`^#define\s+(WL__\w+)\s+${NUMBER}u?\s*$`, 'gm'),
  )) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The value of C's WL__<name>, which must be defined. */
function cValue(defines: Map<string, number>, name: string): number {
  const v = defines.get(`WL__${name}`);
  assert.ok(v !== undefined, `host/native/abi.h defines no WL__${name}`);
  return v!;
}

/** Every AS declaration `const NAME: type = value;` under assembly/, as [file, value]. */
function asDeclarations(name: string): [string, number][] {
  const re = new RegExp(String.raw`\bconst\s+${name}\s*:\s*\w+\s*=\s*${NUMBER}\s*;`, 'g');
  return asFiles.flatMap(([file, text]) =>
    [...text.matchAll(re)].map((m) => [file, Number(m[1])] as [string, number]),
  );
}

/** The single value all AS declarations of `name` agree on (fails when none or they differ). */
function asValue(name: string): number {
  const found = asDeclarations(name);
  assert.ok(found.length > 0, `no AS file under assembly/ declares const ${name}`);
  for (const [file, v] of found)
    assert.is(v, found[0]![1], `${file}: ${name} = ${v}, elsewhere ${found[0]![1]}`);
  return found[0]![1];
}

/** `memory.data(size, ...)` of the AS static `name` (its byte size). */
function asStaticSize(name: string): number {
  const re = new RegExp(String.raw`\bconst\s+${name}\s*(?::\s*\w+)?\s*=\s*memory\.data\((\d+)`);
  const hits = asFiles.map(([, text]) => re.exec(text)).filter((m) => m !== null);
  assert.is(hits.length, 1, `exactly one AS file allocates ${name} with memory.data(<bytes>, ...)`);
  return Number(hits[0]![1]);
}

/** bytesIn -> BYTES_IN */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

test('C: record sizes, caps, epoll bits, epoll_ctl ops and shutdown directions (host/native/abi.h)', () => {
  const c = cDefines('host/native/abi.h');
  const names = [
    'EVENT_SIZE',
    'MAX_EVENTS',
    'EPOLLIN',
    'EPOLLOUT',
    'EPOLLERR',
    'EPOLLHUP',
    'EPOLLRDHUP',
    'EPOLLET',
    'EPOLL_CTL_ADD',
    'EPOLL_CTL_DEL',
    'EPOLL_CTL_MOD',
    'SHUT_RD',
    'SHUT_WR',
    'SHUT_RDWR',
  ] as const;
  for (const name of names) assert.is(cValue(c, name), abi[name], `WL__${name}`);
  assert.is(cValue(c, 'IO_RECORD'), abi.IO_RECORD_SIZE, 'WL__IO_RECORD');
  assert.is(cValue(c, 'MAX_IO'), abi.IO_MANY_MAX, 'WL__MAX_IO');
});

test('C: no other shim file defines an ABI number of its own', () => {
  const own = new Set(cDefines('host/native/abi.h').keys());
  const files = readdirSync(new URL('host/native/', root)).filter(
    (f) => /\.[ch]$/.test(f) && f !== 'abi.h',
  );
  assert.ok(files.length >= 4, 'the shim sources are found');
  for (const f of files) {
    for (const name of cDefines(`host/native/${f}`).keys())
      assert.not.ok(own.has(name), `host/native/${f} redefines ${name}`);
  }
});

test('C: the errno table maps every name to its WASI value (host/native/errno.h)', () => {
  const rows = [...read('host/native/errno.h').matchAll(/X\((E[A-Z0-9]+),\s*(\d+)\)/g)];
  const seen = new Set<string>();
  for (const [, name, value] of rows) {
    assert.is(Number(value), abi.ERRNO_NAMES.indexOf(name as abi.ErrnoName), `errno.h: ${name}`);
    seen.add(name!);
  }
  // Linux has every WASI errno but these two.
  const expected = abi.ERRNO_NAMES.filter((n) => n !== 'ESUCCESS' && n !== 'ENOTCAPABLE');
  assert.equal(
    [...seen].sort(),
    [...expected].sort(),
    'errno.h lists every WASI errno Linux has, once',
  );
  assert.is(rows.length, seen.size, 'no row twice');
});

test('AS: hostcall names (every @external("wasmloop", ...) under assembly/)', () => {
  const names = asFiles.flatMap(([, text]) =>
    [...text.matchAll(/@external\("wasmloop",\s*"(\w+)"\)/g)].map((m) => m[1]!),
  );
  assert.equal(
    [...names].sort(),
    [...abi.HOSTCALLS].sort(),
    'the SDK declares each hostcall once, and only those',
  );
});

test('AS: errno values', () => {
  const errnoFile = asFiles.find(([file]) => /(^|\/)errno\.ts$/.test(file));
  assert.ok(errnoFile !== undefined, 'assembly/**/errno.ts is found');
  const declared = [...errnoFile![1].matchAll(/\bconst\s+(\w+)\s*:/g)].map((m) => m[1]!);
  assert.ok(declared.length >= 5, "the SDK's errno constants are found");
  const known = abi.ERRNO_NAMES as readonly string[];
  for (const name of declared)
    assert.ok(known.includes(name), `${errnoFile![0]}: ${name} is a WASI errno name`);
  // Wherever else the SDK declares an errno by name, it must agree too.
  for (const name of known) {
    if (asDeclarations(name).length > 0)
      assert.is(asValue(name), known.indexOf(name), `AS ${name}`);
  }
});

test('AS: epoll bits and the event record', () => {
  for (const name of [
    'EPOLLIN',
    'EPOLLOUT',
    'EPOLLERR',
    'EPOLLHUP',
    'EPOLLRDHUP',
    'EPOLLET',
  ] as const) {
    assert.is(asValue(name), abi[name], `AS ${name}`);
  }
  assert.is(asValue('EVENT_SIZE'), abi.EVENT_SIZE, 'AS EVENT_SIZE');
  assert.ok(asValue('EVENTS_CAP') <= abi.MAX_EVENTS, "the SDK's event ring fits one epollWait");
});

test("AS: the carry-over size is the core buffer, the slot cap the core's", () => {
  assert.is(asValue('BUF_SIZE'), abi.MAX_CARRY_BYTES, 'AS BUF_SIZE: the carry-over size');
  assert.is(asValue('MAX_CONNS_LIMIT'), abi.MAX_SLOTS, 'AS MAX_CONNS_LIMIT: the slot cap');
});

test('AS: the I/O record and its cap', () => {
  assert.is(asValue('IO_RECORD'), abi.IO_RECORD_SIZE, 'AS IO_RECORD');
  const batch = asValue('IO_MAX');
  assert.ok(
    batch >= 1 && batch <= abi.IO_MANY_MAX,
    `the SDK's batch (${batch}) is within the host's cap`,
  );
});

test('AS: counters, their offsets and the stats block size', () => {
  abi.STAT_NAMES.forEach((name, i) =>
    assert.is(asValue(snake(name)), i * abi.STAT_SIZE, `AS ${snake(name)}`),
  );
  assert.is(asStaticSize('STATS'), abi.STAT_NAMES.length * abi.STAT_SIZE, 'AS STATS block');
  const stats = asFiles.find(([file]) => /(^|\/)stats\.ts$/.test(file));
  assert.ok(stats !== undefined, 'assembly/**/stats.ts is found');
  const offsets = [...stats![1].matchAll(/\bconst\s+([A-Z_]+)\s*:\s*usize\s*=\s*\d+\s*;/g)].map(
    (m) => m[1]!,
  );
  assert.equal(
    offsets.sort(),
    abi.STAT_NAMES.map(snake).sort(),
    'stats.ts has an offset for each counter, and no other',
  );
});

test('AS: salvage actions and the salvage record', () => {
  const hits = asFiles
    .map(([, text]) => /\benum\s+Salvage\s*\{([^}]*)\}/.exec(text))
    .filter((m) => m !== null);
  assert.is(hits.length, 1, 'exactly one AS file declares enum Salvage');
  const members = new Map(
    [...hits[0]![1]!.matchAll(/([A-Z_]+)\s*=\s*(-?\d+)/g)].map((m) => [m[1]!, Number(m[2])]),
  );
  const expected = new Map(Object.entries(abi.SalvageAction).map(([k, v]) => [k.toUpperCase(), v]));
  assert.equal(Object.fromEntries(members), Object.fromEntries(expected), 'AS Salvage');
  assert.is(asStaticSize('SALVAGE_RECORD'), abi.SALVAGE_RECORD_SIZE, 'AS SALVAGE_RECORD size');
});

test('docs/ABI.md: hostcall headings, counter offsets and the errno table', () => {
  const doc = read('docs/ABI.md');
  const imports = doc.slice(
    doc.indexOf('## Host imports, module `wasmloop`'),
    doc.indexOf('## Memory and tables'),
  );
  const headings = [...imports.matchAll(/^#### `(\w+)`$/gm)].map((m) => m[1]!);
  assert.equal(headings.sort(), [...abi.HOSTCALLS].sort(), 'ABI.md documents each hostcall');
  const counters = [...doc.matchAll(/^ +(\d+) {2}([a-z_]+) /gm)].map((m) => [
    Number(m[1]),
    m[2]!.toUpperCase(),
  ]);
  assert.equal(
    counters,
    abi.STAT_NAMES.map((n, i) => [i * abi.STAT_SIZE, snake(n)]),
    'ABI.md counter table',
  );
  const errnos = doc.slice(doc.indexOf('## Errno values'));
  const rows = [...errnos.matchAll(/\b(E[A-Z0-9]+) \| (\d+)\b/g)];
  assert.ok(rows.length >= 20, 'ABI.md errno table is found');
  for (const [, name, value] of rows)
    assert.is(Number(value), abi.ERRNO_NAMES.indexOf(name as abi.ErrnoName), `ABI.md: ${name}`);
});

test.run();
