/**
 * Property runs over the simulated kernel (docs/SIMULATION.md): the entry point shared by
 * `npm run sim` (scripts/sim.ts) and test/sim-property.test.ts.
 */
import { resolve } from 'node:path';
import { loadModule } from '../../module.ts';
import type { GuestModel } from './model.ts';
import { runSeed, type RunReport } from './runner.ts';

export { MODELS, findModel } from './models.ts';
export type { Exchange, GuestModel } from './model.ts';
export { runSeed, type RunOptions, type RunReport } from './runner.ts';

export type Flavour = 'release' | 'debug';

/** build/NAME.wasm or build/debug/NAME.wasm. */
export function guestPath(guest: string, flavour: Flavour): string {
  return resolve('build', flavour === 'debug' ? 'debug' : '', `${guest}.wasm`);
}

export function loadGuest(guest: string, flavour: Flavour): Promise<WebAssembly.Module> {
  return loadModule(guestPath(guest, flavour));
}

/** The one-line command that replays a seed exactly, with every step printed. */
export function replayCommand(guest: string, flavour: Flavour, seed: number, limits: Readonly<Record<string, number>> = {}): string {
  const extra = Object.entries(limits).map(([k, v]) => ` --limit ${k}=${v}`).join('');
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
  const sum: SeedsSummary = { guest: o.model.guest, flavour: o.flavour, seeds: 0, failures: [], peers: 0, ticks: 0, bytes: 0, ms: 0 };
  const t0 = performance.now();
  for (let seed = o.first; seed < o.first + o.count; seed++) {
    const r = runSeed({ model: o.model, module: o.module, seed, rounds: o.rounds, maxPeers: o.maxPeers, ...(o.limits ? { limits: o.limits } : {}) });
    sum.seeds++;
    sum.peers += r.peers;
    sum.ticks += r.ticks;
    sum.bytes += r.bytes;
    if (r.failure !== undefined) sum.failures.push(r);
    o.onSeed?.(r);
    if (o.maxFailures !== undefined && sum.failures.length >= o.maxFailures) break;
  }
  sum.ms = performance.now() - t0;
  return sum;
}
