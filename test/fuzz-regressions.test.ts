/**
 * Fuzzing in the test suite: every input `npm run fuzz` ever saved under test/fuzz-cases/ is
 * replayed (at 20 different chunkings), and each fuzz target runs a short, seeded smoke round
 * so a regression in a parser's contract shows up in `npm test`, not only in `npm run fuzz`.
 * The HTTP oracle is a reference of docs/HTTP.md's rules (fuzz/http-reference.ts); it is held
 * to the hand-written corpus here, so that it cannot drift from the rules it stands for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../host/kernel/sim/random.ts';
import { FuzzSession } from '../fuzz/engine.ts';
import { mutate } from '../fuzz/mutate.ts';
import { TARGETS } from '../fuzz/targets.ts';
import { compareHttp } from '../fuzz/http-oracle.ts';
import { expectSdk, SDK_LIMITS, type Verdict } from '../fuzz/http-reference.ts';
import { expectHello } from '../fuzz/hello-reference.ts';
import { loadCorpus } from './helpers/http-corpus.ts';

const test = suite('fuzz regressions');
const DIR = 'test/fuzz-cases';
/** Inputs per target in the smoke round: enough to reach every refusal path of the corpus. */
const SMOKE_INPUTS = 3000;

const CASES = readdirSync(DIR).filter((f) => f.endsWith('.bin'));

test('the regression folder holds cases, each named after a target', () => {
  // An empty folder would make the replays below a loop over nothing that always passes.
  assert.ok(CASES.length >= 5, `${CASES.length} cases in ${DIR}`);
  for (const f of CASES)
    assert.ok(
      TARGETS.some((t) => f.startsWith(`${t.name}-`)),
      `${f} names no target`,
    );
});

for (const file of CASES) {
  test(`saved case ${file}`, async () => {
    const target = TARGETS.find((t) => file.startsWith(`${t.name}-`));
    assert.ok(target, `${file} names no target`);
    const input = readFileSync(`${DIR}/${file}`);
    for (let chunking = 1; chunking <= 20; chunking++) {
      const why = (await FuzzSession.open(target!, chunking)).runOne(input, new Random(chunking));
      assert.is(why, null, `chunking ${chunking}`);
    }
  });
}

// Every target, not only those whose guest happens to be built: a missing guest must fail here,
// not drop its smoke round without a word.
for (const target of TARGETS) {
  test(`smoke: ${SMOKE_INPUTS} mutated inputs for ${target.name} keep the contract`, async () => {
    const corpus = target.seeds();
    const rng = new Random(20261124);
    const session = await FuzzSession.open(target, 1);
    for (let i = 0; i < SMOKE_INPUTS; i++) {
      const input = mutate(rng, corpus[rng.int(0, corpus.length - 1)]!, corpus);
      const why = session.runOne(input, rng);
      assert.is(
        why,
        null,
        `input #${i}: ${JSON.stringify(Buffer.from(input).toString('latin1').slice(0, 120))}`,
      );
    }
  });
}

test('the HTTP reference gives every corpus case the status the corpus expects', () => {
  const show = (v: Verdict) =>
    v.kind === 'served' ? '200' : v.kind === 'refused' ? [...v.statuses].join('/') : 'none';
  let checked = 0;
  for (const c of loadCorpus('test/http')) {
    if (c.limits['max-body-bytes'] !== undefined) continue; // inspect's own is unlimited
    const limits = {
      maxHeaderBytes: c.limits['max-header-bytes'] ?? SDK_LIMITS.maxHeaderBytes,
      maxTargetBytes: c.limits['max-target-bytes'] ?? SDK_LIMITS.maxTargetBytes,
      maxHeaders: c.limits['max-headers'] ?? SDK_LIMITS.maxHeaders,
    };
    const got = expectSdk(c.request, limits);
    const want = [...c.responses.map((r) => String(r.status)), ...(c.incomplete ? ['none'] : [])];
    const ok =
      got.length === want.length && got.every((v, i) => show(v).split('/').includes(want[i]!));
    assert.ok(
      ok,
      `${c.file}:${c.line} ${c.name}: the reference says ${got.map(show).join(', ')}, the corpus ${want.join(', ')}`,
    );
    checked++;
  }
  assert.ok(checked > 200, `${checked} cases`);
});

test('the HTTP oracle refuses a parser that serves two Content-Length fields', () => {
  const input = Buffer.from(
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    'latin1',
  );
  const served = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', 'latin1');
  const refused = Buffer.from(
    'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    'latin1',
  );
  assert.match(
    compareHttp(expectSdk(input), { output: served, endedByGuest: false }) ?? '',
    /request 1 .*refused 400.* answered 200/,
  );
  assert.is(compareHttp(expectSdk(input), { output: refused, endedByGuest: true }), null);
});

const answer = (status: number) =>
  Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, 'latin1');
/** The statuses (200 for served) the reference lets a guest answer `head` with, of 200, 400, 413, 417, 501, 505. */
function allowed(expect: (b: Uint8Array) => readonly Verdict[], head: string): number[] {
  const v = expect(Buffer.from(head, 'latin1'));
  const out = (s: number) =>
    s === 200 ? Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'latin1') : answer(s);
  return [200, 400, 413, 417, 501, 505].filter(
    (s) => compareHttp(v, { output: out(s), endedByGuest: true }) === null,
  );
}

// The first error in byte order decides the status (docs/HTTP.md): the reference allows that
// one status and no other, and still refuses to see a smuggling vector served.
const BYTE_ORDER: [string, (b: Uint8Array) => readonly Verdict[], string, number[]][] = [
  [
    'a second Content-Length',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    [400],
  ],
  [
    'Content-Length with Transfer-Encoding',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    [400],
  ],
  ['a second Host', expectSdk, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', [400]],
  [
    '505 at the CR, before the bare CR it turns out to be',
    expectSdk,
    'GET / HTTP/2.0\rX\r\n\r\n',
    [505],
  ],
  [
    '413 at the 16th digit, before a bare LF',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999\n\r\n',
    [413],
  ],
  [
    '413 at the 16th digit, before a second Content-Length',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999\r\nContent-Length: 1\r\n\r\n',
    [413],
  ],
  [
    'a second Content-Length, before a 16th digit',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 9999999999999999\r\n\r\n',
    [400],
  ],
  [
    '417 at the CR, before the bare CR it turns out to be',
    expectSdk,
    'GET / HTTP/1.1\r\nHost: a\r\nExpect: 10\r0-continue\r\n\r\n',
    [417],
  ],
  [
    'a bare LF, before a second Host',
    expectSdk,
    'GET / HTTP/1.1\r\nHost: a\nHost: b\r\n\r\n',
    [400],
  ],
  [
    'an early error in a head still arriving',
    expectSdk,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999',
    [413],
  ],
  ['hello: 505 at the CR, before the bare CR', expectHello, 'GET / HTTP/2.0\rX\r\n\r\n', [505]],
  [
    'hello: 501 at the colon, before a bare CR',
    expectHello,
    'GET / HTTP/1.1\r\nTransfer-Encoding: x\ry\r\n\r\n',
    [501],
  ],
  [
    'hello: a bad line, before Transfer-Encoding',
    expectHello,
    'GET / HTTP/1.1\r\nA B: 1\r\nTransfer-Encoding: x\r\n\r\n',
    [400],
  ],
  [
    'hello: a second Content-Length',
    expectHello,
    'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    [400],
  ],
];
for (const [name, expect, head, want] of BYTE_ORDER) {
  test(`the reference, in byte order: ${name}`, () => {
    assert.equal(allowed(expect, head), want, JSON.stringify(head));
  });
}

test.run();
