/**
 * Deterministic property runs (test/props, docs/SIMULATION.md) of every modelled guest, in
 * both builds: scripted peers, seeded kernel faults, injected stale and spurious events,
 * failing accepts and a virtual clock. For each seed: no byte lost, duplicated or reordered,
 * every connection closed, no trap, no pooled buffer or heap byte leaked across rounds.
 *
 * Each run also proves its faults happened (host/kernel/sim/faults.ts FaultTally): a fault kind the
 * seeds switched on that was never injected fails the run, so a fault injector switched off
 * by mistake cannot leave every property "holding" untested.
 *
 * Which seeds: SIM_FROM=S starts at seed S; without it the start is drawn from the commit
 * (git HEAD), so each commit CI tests explores seeds no earlier one ran, and rerunning a commit
 * reruns its seeds. SIM_SEEDS=N runs N seeds per guest and build instead of the defaults
 * below. A failure names the seed and the command that replays it: npm run sim -- --seed N ...
 */
import { execFileSync } from 'node:child_process';
import { FaultTally } from '../host/kernel/sim/faults.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describeMissingFaults,
  findModel,
  loadGuest,
  MODELS,
  replayCommand,
  runSeed,
  runSeeds,
  type Flavour,
  type GuestModel,
} from './props/index.ts';

/** Seeds per guest: the release build gets more; both stay well inside the suite's budget. */
const SEEDS: Record<Flavour, number> = { release: 80, debug: 30 };

const fromEnv = (name: string) =>
  /^\d+$/.test(process.env[name] ?? '') ? Number(process.env[name]) : undefined;

/** The first seed of this commit's window: from its hash (or the clock outside a git
 *  checkout), in 1..1,000,000. */
function commitSeed(): number {
  let hash: string;
  try {
    hash = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    hash = Date.now().toString(16);
  }
  return (parseInt(hash.slice(0, 8), 16) % 1_000_000) + 1;
}

const FIRST_SEED = fromEnv('SIM_FROM') ?? commitSeed();

const test = suite('sim property runs');

for (const flavour of ['release', 'debug'] as const) {
  for (const model of MODELS) {
    const count = fromEnv('SIM_SEEDS') ?? SEEDS[flavour];
    const first = FIRST_SEED;
    test(`${model.guest} (${flavour}): seeds ${first}..${first + count - 1} hold every property, and every fault they enable happens`, async () => {
      const module = await loadGuest(model.guest, flavour);
      const sum = runSeeds({ model, module, flavour, first, count, maxFailures: 5 });
      const report = sum.failures.map(
        (f) =>
          `seed ${f.seed}: ${f.failure}\n    replay: ${replayCommand(model.guest, flavour, f.seed)}`,
      );
      assert.is(sum.failures.length, 0, `\n  ${report.join('\n  ')}\n`);
      assert.is(sum.seeds, count);
      const rerun = `npm run sim -- --guest ${model.guest} --flavour ${flavour} --from ${first} --seeds ${count}`;
      assert.equal(sum.missingFaults, [], `${describeMissingFaults(sum)}\n    rerun: ${rerun}`);
    });
  }
}

test('a fault tally reports a kind that was all but certain to happen and did not', () => {
  const t = new FaultTally();
  for (let i = 0; i < 500; i++) t.chance('shortWrite', 0.05); // P(no hit) = 0.95^500 ~ 1e-11
  t.chance('reset', 1);
  t.chance('eagain', 0.5); // unlucky, not broken
  assert.equal(t.missing(), ['shortWrite', 'reset']);
  t.hit('shortWrite');
  t.hit('reset');
  assert.equal(t.missing(), []);
});

test('a seed replays exactly: same peers, ticks and bytes', async () => {
  const model = findModel('frame')!;
  const module = await loadGuest('frame', 'release');
  const a = runSeed({ model, module, seed: 4242 });
  const b = runSeed({ model, module, seed: 4242 });
  assert.equal(b, a);
  assert.ok(a.ticks > 0 && a.bytes > 0 && a.peers > 0);
});

test('one wrong byte is caught at its offset, and the failure replays', async () => {
  // A model that expects echo with byte 7 of every reply flipped: the guest is right, so the
  // expectation is wrong at exactly that byte of the first peer with 8 bytes or more.
  const echo = findModel('echo')!;
  const skewed: GuestModel = {
    ...echo,
    exchange(rng, budget) {
      const ex = echo.exchange(rng, budget);
      if (ex.output.length <= 7) return ex;
      const output = ex.output.slice();
      output[7]! ^= 1;
      return { ...ex, output };
    },
  };
  const module = await loadGuest('echo', 'release');
  const r = runSeed({ model: skewed, module, seed: 1 });
  assert.match(
    r.failure ?? '',
    /: peer \d+: byte 7 of the output is 0x[0-9a-f]{2}, expected 0x[0-9a-f]{2}/,
  );
  assert.is(runSeed({ model: skewed, module, seed: 1 }).failure, r.failure);
});

test.run();
