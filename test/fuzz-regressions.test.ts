/**
 * Fuzzing in the test suite: every input `npm run fuzz` ever saved under test/fuzz-cases/ is
 * replayed (at 20 different chunkings), and each fuzz target runs a short, seeded smoke round
 * so a regression in a parser's contract shows up in `npm test`, not only in `npm run fuzz`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../host/sim/random.ts';
import { FuzzSession } from '../fuzz/engine.ts';
import { mutate } from '../fuzz/mutate.ts';
import { TARGETS } from '../fuzz/targets.ts';

const test = suite('fuzz regressions');
const DIR = 'test/fuzz-cases';
/** Inputs per target in the smoke round: enough to reach every refusal path of the corpus. */
const SMOKE_INPUTS = 3000;

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.bin'))) {
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
      assert.is(why, null, `input #${i}: ${JSON.stringify(Buffer.from(input).toString('latin1').slice(0, 120))}`);
    }
  });
}

test.run();
