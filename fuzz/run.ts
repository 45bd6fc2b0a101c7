/**
 * `npm run fuzz`: coverage-free mutation fuzzing of the guests' parsers, in pure wasm.
 *
 *   npm run fuzz                               every target, 1,000,000 inputs each (bounded by time)
 *   npm run fuzz -- --target http --iterations 50000 --seconds 30 --seed 7
 *   npm run fuzz -- --replay test/fuzz-cases/http-1a2b3c4d.bin
 *
 * A failing input is saved under test/fuzz-cases/ (TARGET-HASH.bin), where the regression
 * suite (test/fuzz-regressions.test.ts) replays it from then on; the run exits 1.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../host/kernel/sim/random.ts';
import { FuzzSession } from './engine.ts';
import { mutate } from './mutate.ts';
import { availableTargets, TARGETS, type FuzzTarget } from './targets.ts';

export const CASES_DIR = 'test/fuzz-cases';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    iterations: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    replay: { type: 'string' },
  },
});

async function fuzz(
  target: FuzzTarget,
  iterations: number,
  seconds: number,
  seed: number,
): Promise<number> {
  const corpus = target.seeds();
  const rng = new Random(seed);
  let session = await FuzzSession.open(target, seed);
  const started = performance.now();
  let failures = 0;
  let i = 0;
  for (; i < iterations && performance.now() - started < seconds * 1000; i++) {
    const input = mutate(rng, corpus[rng.int(0, corpus.length - 1)]!, corpus);
    const why = session.runOne(input, rng);
    if (why === null) continue;
    failures++;
    const file = `${CASES_DIR}/${target.name}-${createHash('sha256').update(input).digest('hex').slice(0, 8)}.bin`;
    mkdirSync(CASES_DIR, { recursive: true });
    writeFileSync(file, input);
    console.log(
      `FAIL ${target.name} #${i}: ${why}\n  saved ${file}; replay: npm run fuzz -- --replay ${file}`,
    );
    session = await FuzzSession.open(target, seed + i); // the failure may have left it unusable
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `${target.name}: ${i} inputs in ${secs.toFixed(1)} s (${Math.round(i / secs)}/s), ${failures} failure(s)`,
  );
  return failures;
}

async function replay(file: string): Promise<number> {
  const target = TARGETS.find((t) => basename(file).startsWith(`${t.name}-`));
  if (!target)
    throw new Error(
      `${file}: the name must start with a target (${TARGETS.map((t) => t.name).join(', ')})`,
    );
  const input = readFileSync(file);
  let failures = 0;
  for (let chunking = 1; chunking <= 20; chunking++) {
    const why = (await FuzzSession.open(target, chunking)).runOne(input, new Random(chunking));
    if (why !== null) {
      failures++;
      console.log(`FAIL ${file} (chunking ${chunking}): ${why}`);
    }
  }
  console.log(`${file}: ${failures === 0 ? 'passes' : `${failures} of 20 chunkings fail`}`);
  return failures;
}

async function main(): Promise<number> {
  if (values.replay) return replay(values.replay);
  const targets = values.target
    ? TARGETS.filter((t) => t.name === values.target)
    : availableTargets();
  if (targets.length === 0)
    throw new Error(
      `no such target '${values.target}' (${TARGETS.map((t) => t.name).join(', ')}), or its guest is not built`,
    );
  let failures = 0;
  for (const t of targets)
    failures += await fuzz(
      t,
      Number(values.iterations),
      Number(values.seconds),
      Number(values.seed),
    );
  return failures;
}

process.exitCode = (await main()) > 0 ? 1 : 0;
