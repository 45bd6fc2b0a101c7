/**
 * Deterministic property runs (host/sim/props, docs/SIMULATION.md) of every modelled guest, in
 * both builds: scripted peers, seeded kernel faults, injected stale and spurious events,
 * failing accepts and a virtual clock. For each seed: no byte lost, duplicated or reordered,
 * every connection closed, no trap, no pooled buffer or heap byte leaked across rounds.
 *
 * A failure names the seed and the command that replays it: npm run sim -- --seed N ...
 * SIM_SEEDS=N runs N seeds per guest and build instead of the defaults below; SIM_FROM=S
 * starts at seed S (CI can rotate through seeds while a local run stays reproducible).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findModel, loadGuest, MODELS, replayCommand, runSeed, runSeeds, type Flavour, type GuestModel } from '../host/sim/props/index.ts';

/** Seeds per guest: the release build gets more; both stay well inside the suite's budget. */
const SEEDS: Record<Flavour, number> = { release: 80, debug: 30 };

const fromEnv = (name: string) => (/^\d+$/.test(process.env[name] ?? '') ? Number(process.env[name]) : undefined);

const test = suite('sim property runs');

for (const flavour of ['release', 'debug'] as const) {
  for (const model of MODELS) {
    const count = fromEnv('SIM_SEEDS') ?? SEEDS[flavour];
    const first = fromEnv('SIM_FROM') ?? 1;
    test(`${model.guest} (${flavour}): seeds ${first}..${first + count - 1} hold every property`, async () => {
      const module = await loadGuest(model.guest, flavour);
      const sum = runSeeds({ model, module, flavour, first, count, maxFailures: 5 });
      const report = sum.failures.map((f) => `seed ${f.seed}: ${f.failure}\n    replay: ${replayCommand(model.guest, flavour, f.seed)}`);
      assert.is(sum.failures.length, 0, `\n  ${report.join('\n  ')}\n`);
      assert.is(sum.seeds, count);
    });
  }
}

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
  assert.match(r.failure ?? '', /: peer \d+: byte 7 of the output is 0x[0-9a-f]{2}, expected 0x[0-9a-f]{2}/);
  assert.is(runSeed({ model: skewed, module, seed: 1 }).failure, r.failure);
});

test.run();
