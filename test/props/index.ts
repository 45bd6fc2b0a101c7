/**
 * Property runs over the simulated kernel (docs/SIMULATION.md): the entry point shared by
 * `npm run sim` (scripts/sim.ts) and test/sim-property.test.ts.
 */
import { resolve } from 'node:path';
import { loadModule } from '../../host/module.ts';
import { FAULT_KINDS, FaultTally, type FaultKind } from '../../host/kernel/sim/faults.ts';
import type { GuestModel } from './model.ts';
import { describeTally } from './profile.ts';
import { runSeed, type RunReport } from './runner.ts';

export { MODELS, findModel } from './models.ts';
export type { Exchange, GuestModel } from './model.ts';
export { runSeed, type RunOptions, type RunReport } from './runner.ts';

export type Flavour = 'release' | 'debug';

/** wasm/NAME.wasm or wasm/debug/NAME.wasm. */
export function guestPath(guest: string, flavour: Flavour): string {
  return resolve('wasm', flavour === 'debug' ? 'debug' : '', `${guest}.wasm`);
}

export function loadGuest(guest: string, flavour: Flavour): Promise<WebAssembly.Module> {
  return loadModule(guestPath(guest, flavour));
}

/** The one-line command that replays a seed exactly, with every step printed. */
export function replayCommand(
  guest: string,
  flavour: Flavour,
  seed: number,
  limits: Readonly<Record<string, number>> = {},
): string {
  const extra = Object.entries(limits)
    .map(([k, v]) => ` --limit ${k}=${v}`)
    .join('');
  return `npm run sim -- --guest ${guest} --flavour ${flavour} --seed ${seed}${extra} --verbose`;
}

export interface SeedsSummary {
  guest: string;
  flavour: Flavour;
  seeds: number;
  failures: RunReport[];
  peers: number;
  ticks: number;
  bytes: number;
  ms: number;
  /** The faults of every seed together, and in how many seeds each kind was switched on. */
  faults: FaultTally;
  enabledIn: Record<FaultKind, number>;
  /** Fault kinds that never happened in the whole run although they should have (a broken
   *  fault injector); empty when the run proves each of its faults (faultsProven). */
  missingFaults: FaultKind[];
}

/** A kind switched on in this many seeds (each with dozens of calls it could hit) that never
 *  once hit is broken, whatever its odds per call (which are not known for every kind). */
const ENABLED_SEEDS_LIMIT = 10;

/** The fault kinds a run of seeds should have seen and did not. */
function missingFaults(sum: SeedsSummary): FaultKind[] {
  const unlikely = new Set(sum.faults.missing());
  return FAULT_KINDS.filter(
    (k) => unlikely.has(k) || (sum.faults.hits[k] === 0 && sum.enabledIn[k] >= ENABLED_SEEDS_LIMIT),
  );
}

/** One line for a run whose faults did not all happen: what each did, and where it was on. */
export function describeMissingFaults(sum: SeedsSummary): string {
  const where = sum.missingFaults.map((k) => `${k} on in ${sum.enabledIn[k]} seeds`).join(', ');
  return `faults never injected: ${describeTally(sum.faults, sum.missingFaults)} (${where})`;
}

export interface SeedsOptions {
  model: GuestModel;
  module: WebAssembly.Module;
  flavour: Flavour;
  first: number;
  count: number;
  rounds?: number;
  maxPeers?: number;
  limits?: Readonly<Record<string, number>>;
  /** Stop after this many failures (default: never). */
  maxFailures?: number;
  /** Called after each seed. */
  onSeed?: (r: RunReport) => void;
}

/** Runs seeds first .. first+count-1 and sums them up. */
export function runSeeds(o: SeedsOptions): SeedsSummary {
  const sum: SeedsSummary = {
    guest: o.model.guest,
    flavour: o.flavour,
    seeds: 0,
    failures: [],
    peers: 0,
    ticks: 0,
    bytes: 0,
    ms: 0,
    faults: new FaultTally(),
    enabledIn: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    missingFaults: [],
  };
  const t0 = performance.now();
  for (let seed = o.first; seed < o.first + o.count; seed++) {
    const r = runSeed({
      model: o.model,
      module: o.module,
      seed,
      rounds: o.rounds,
      maxPeers: o.maxPeers,
      ...(o.limits ? { limits: o.limits } : {}),
    });
    sum.seeds++;
    sum.peers += r.peers;
    sum.ticks += r.ticks;
    sum.bytes += r.bytes;
    sum.faults.add(r.faults);
    for (const k of r.enabled) sum.enabledIn[k]++;
    if (r.failure !== undefined) sum.failures.push(r);
    o.onSeed?.(r);
    if (o.maxFailures !== undefined && sum.failures.length >= o.maxFailures) break;
  }
  sum.ms = performance.now() - t0;
  sum.missingFaults = missingFaults(sum);
  return sum;
}
