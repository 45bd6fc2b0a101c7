/**
 * npm run sim: deterministic property runs of the guests over the simulated kernel
 * (docs/SIMULATION.md). Every seed is one reproducible world; a failing seed is printed with
 * the command that replays it exactly. A run also fails when a fault its seeds switched on never
 * happened (host/kernel/sim/faults.ts FaultTally): a broken fault injector would prove nothing.
 *
 *   npm run sim -- --seeds 1000                  seeds 1..1000 for every guest (release build)
 *   npm run sim -- --guest frame --flavour both  one guest, release and debug builds
 *   npm run sim -- --guest hello --seed 77 --verbose   replay one seed, every step printed
 */
import { parseArgs } from 'node:util';
import {
  describeMissingFaults,
  findModel,
  loadGuest,
  MODELS,
  replayCommand,
  runSeed,
  runSeeds,
  type Flavour,
  type SeedsSummary,
} from '../test/props/index.ts';

const USAGE = `usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--guest NAME,...] [--flavour release|debug|both]
                      [--rounds R] [--peers P] [--limit NAME=VALUE ...] [--max-failures K] [--verbose]
  --seeds N        seeds per guest and build (default 100), starting at --from (default 1)
  --seed S         run only seed S (a replay); with --verbose, print every step
  --guest NAMES    comma-separated guests (default: all): ${MODELS.map((m) => m.guest).join(', ')}
  --flavour F      release (default), debug, or both
  --rounds R       rounds of peers per guest instance, the first priming the pool (default 4)
  --peers P        most peers per round (default 8)
  --limit N=V      a guest limit over the model's own, e.g. keepalive-timeout-ms=1e9 (repeatable)
  --max-failures K stop a guest after K failing seeds (default 10)`;

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n${USAGE}\n`);
  process.exit(64);
}

function int(v: string | undefined, name: string, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min) fail(`--${name} needs an integer >= ${min}, not '${v}'`);
  return Number(v);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        seeds: { type: 'string' },
        from: { type: 'string' },
        seed: { type: 'string' },
        guest: { type: 'string' },
        flavour: { type: 'string' },
        rounds: { type: 'string' },
        peers: { type: 'string' },
        'max-failures': { type: 'string' },
        verbose: { type: 'boolean' },
        limit: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const models = (values.guest ?? MODELS.map((m) => m.guest).join(','))
  .split(',')
  .map((name) => findModel(name) ?? fail(`no model for guest '${name}'`));
const flavours: Flavour[] =
  values.flavour === undefined || values.flavour === 'release'
    ? ['release']
    : values.flavour === 'debug'
      ? ['debug']
      : values.flavour === 'both'
        ? ['release', 'debug']
        : fail(`bad --flavour '${values.flavour}'`);
const rounds = int(values.rounds, 'rounds', 4, 2);
const maxPeers = int(values.peers, 'peers', 8, 1);
const maxFailures = int(values['max-failures'], 'max-failures', 10, 1);
const single = values.seed === undefined ? undefined : int(values.seed, 'seed', 0);
const first = single ?? int(values.from, 'from', 1);
const count = single === undefined ? int(values.seeds, 'seeds', 100, 1) : 1;
const limits: Record<string, number> = {};
for (const l of values.limit ?? []) {
  const m = /^([a-z0-9-]+)=(.+)$/.exec(l);
  if (m === null || !Number.isFinite(Number(m[2])) || Number(m[2]) < 0)
    fail(`--limit needs name=value with a number >= 0, not '${l}'`);
  limits[m[1]!] = Number(m[2]);
}

let failed = 0;
for (const model of models) {
  for (const flavour of flavours) {
    let module: WebAssembly.Module;
    try {
      module = await loadGuest(model.guest, flavour);
    } catch (err) {
      fail(`${(err as Error).message} (build the guests with: npm run asbuild)`);
    }
    if (single !== undefined) {
      const log = values.verbose ? (line: string) => console.log(`  ${line}`) : undefined;
      const r = runSeed({
        model,
        module,
        seed: single,
        rounds,
        maxPeers,
        limits,
        ...(log ? { log } : {}),
      });
      if (r.failure === undefined) {
        console.log(
          `ok   ${model.guest} (${flavour}) seed ${single}: ${r.peers} peers, ${r.ticks} ticks, ${r.bytes} bytes, ${r.virtualMs} virtual ms; ${r.profile}`,
        );
      } else {
        failed++;
        console.log(
          `FAIL ${model.guest} (${flavour}) seed ${single}: ${r.failure}\n  profile: ${r.profile}`,
        );
      }
      continue;
    }
    const sum: SeedsSummary = runSeeds({
      model,
      module,
      flavour,
      first,
      count,
      rounds,
      maxPeers,
      maxFailures,
      limits,
      onSeed: (r) => {
        if (r.failure === undefined) return;
        console.log(
          `FAIL ${model.guest} (${flavour}) seed ${r.seed}: ${r.failure}\n  profile: ${r.profile}\n  replay: ${replayCommand(model.guest, flavour, r.seed, limits)}`,
        );
      },
    });
    failed += sum.failures.length;
    if (sum.missingFaults.length > 0) {
      // The seeds passed, but without some fault they switched on: they proved less than they say.
      failed++;
      console.log(
        `FAIL ${model.guest} (${flavour}): ${describeMissingFaults(sum)}\n  rerun: npm run sim -- --guest ${model.guest} --flavour ${flavour} --from ${first} --seeds ${count}`,
      );
    }
    const s = sum.ms / 1000;
    console.log(
      `${sum.failures.length === 0 ? 'ok  ' : 'FAIL'} ${model.guest} (${flavour}): seeds ${first}..${first + sum.seeds - 1}, ` +
        `${sum.failures.length} failed; ${sum.peers} peers, ${(sum.bytes / 1e6).toFixed(1)} MB, ${sum.ticks} ticks in ${s.toFixed(1)} s ` +
        `(${(sum.seeds / s).toFixed(0)} seeds/s)`,
    );
  }
}
process.exit(failed > 0 ? 1 : 0);
