/**
 * The command line of `npm run bench` (bench/run.ts) and the run configuration it implies:
 * `--quick` shortens every window and repetition unless a figure is given explicitly.
 */
import { parseArgs } from 'node:util';
import type { Results } from './model.ts';

const USAGE =
  'usage: npm run bench -- [--quick] [--reps N] [--measure S] [--warm S] [--scenarios id,...|idle] [--servers wasmloop,wasmloop-uv,wasmloop-sdk,c,node,nginx,c-poll,wasmloop-wasi,wasmloop-keeps-1k] [--baseline ID=DIR[,FLAG...]]... [--no-strace] [--no-idle] [--no-install]\n';

export interface BenchOptions {
  quick: boolean;
  /** What latest.json records as the run's configuration. */
  config: Results['config'];
  /** How long a server rests before and after its idle connections are opened. */
  idleSettleMs: number;
  /** The ids named with --scenarios / --servers, or null for the defaults. */
  onlyScenarios: string[] | null;
  onlyServers: string[] | null;
  /** --baseline ID=DIR[,FLAG...], repeatable: another checkout's build as extra rows
   *  (bench/baseline.ts). */
  baselines: string[];
  /** Count syscalls after the first timed run of each cell (off with --no-strace). */
  countSyscalls: boolean;
  /** Run the idle-connection memory scenario (off with --no-idle or a --scenarios without it). */
  idle: boolean;
  /** Install missing tools with apt-get (off with --no-install). */
  install: boolean;
}

/** Parses `args`; prints the usage and exits 0 on --help. */
export function benchOptions(args: string[] = process.argv.slice(2)): BenchOptions {
  const { values: opt } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      measure: { type: 'string' },
      warm: { type: 'string' },
      scenarios: { type: 'string' },
      servers: { type: 'string' },
      baseline: { type: 'string', multiple: true },
      'no-strace': { type: 'boolean', default: false },
      'no-idle': { type: 'boolean', default: false },
      'no-install': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (opt.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = opt.quick;
  const onlyScenarios = opt.scenarios?.split(',') ?? null;
  return {
    quick,
    config: {
      reps: Number(opt.reps ?? (quick ? 1 : 3)),
      warmSec: Number(opt.warm ?? (quick ? 0.5 : 1)),
      measureSec: Math.max(1, Math.round(Number(opt.measure ?? (quick ? 1 : 5)))),
      straceRequests: quick ? 3000 : 20000,
      perfSeconds: quick ? 0.3 : 1,
      idleConns: 10000,
    },
    idleSettleMs: quick ? 300 : 1000,
    onlyScenarios,
    onlyServers: opt.servers?.split(',') ?? null,
    baselines: opt.baseline ?? [],
    countSyscalls: !opt['no-strace'],
    idle: !opt['no-idle'] && (!onlyScenarios || onlyScenarios.includes('idle')),
    install: !opt['no-install'],
  };
}
