/**
 * What a property run takes (RunOptions) and what it reports (RunReport): test/props/runner.ts
 * runs one seed, test/props/index.ts many.
 */
import { FaultTally, type FaultKind } from '../../host/kernel/sim/faults.ts';
import type { GuestModel } from './model.ts';

export interface RunOptions {
  model: GuestModel;
  module: WebAssembly.Module;
  seed: number;
  /** Rounds on the same instance, the first one priming the pool (default 4, at least 2). */
  rounds?: number;
  /** Most peers per round (default 8). */
  maxPeers?: number;
  /** Limits over the model's own (`npm run sim -- --limit name=value`). */
  limits?: Readonly<Record<string, number>>;
  /** Every step of the run, for replays (`npm run sim -- --seed N --verbose`). */
  log?: (line: string) => void;
}

export interface RunReport {
  seed: number;
  guest: string;
  /** The first property broken, with where; undefined when every check passed. */
  failure?: string;
  profile: string;
  peers: number;
  ticks: number;
  /** Bytes the peers sent plus bytes they read. */
  bytes: number;
  virtualMs: number;
  /** What the seed's faults did (host/kernel/sim/faults.ts FaultTally), and the kinds its profile
   *  switched on: runSeeds checks over all its seeds that each of those happened. */
  faults: Pick<FaultTally, 'hits' | 'logMiss'>;
  enabled: FaultKind[];
}

/** The report of a run that failed before it started. */
export function emptyReport(opts: RunOptions): RunReport {
  return {
    seed: opts.seed,
    guest: opts.model.guest,
    profile: '',
    peers: 0,
    ticks: 0,
    bytes: 0,
    virtualMs: 0,
    faults: new FaultTally(),
    enabled: [],
  };
}
