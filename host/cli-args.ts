/**
 * The command line of `wasmloop run` (host/cli.ts): wasmloop's options may stand before or
 * after the module; other words after the module, and everything after `--`, are the guest's
 * arguments. Every mistake is ERR_WASMLOOP_USAGE (exit 64) with one line saying what is wrong.
 */
import { parseHostPort, type ListenAddress } from './address.ts';
import {
  parseDirOption,
  parseWasiBackend,
  type PreopenDir,
  type WasiBackendName,
} from './command/command.ts';
import { WasmloopError } from './errors.ts';
import { parseLimit, type Limits } from './limits.ts';
import { MAX_WORKERS } from './options.ts';
import type { TlsFiles } from './tls.ts';
import { DEFAULT_DRAIN_MS } from './types.ts';

export interface RunArgs {
  module: string;
  listen: ListenAddress[];
  /** `--listenfd`: also the listeners systemd socket activation passed (host/listen-fds.ts). */
  listenfd: boolean;
  env: Record<string, string>;
  args: string[];
  graceMs: number;
  /** After a reload (SIGHUP, `--watch`): how long the old instance may finish its requests. */
  drainMs: number;
  /** `--watch`: reload when the module file changes. */
  watch: boolean;
  maxRestarts: number;
  limits: Limits;
  workers: number;
  watchdogMs: number | undefined;
  stats: boolean;
  /** Where to serve the Prometheus metrics (host/metrics-server.ts), if anywhere. */
  metrics: ListenAddress | undefined;
  driver: 'libuv' | 'blocking';
  dirs: PreopenDir[];
  wasi: WasiBackendName | undefined;
  /** `--tls-cert FILE --tls-key FILE` of each `--tcplisten`, by its index (host/tls.ts). */
  tlsFiles: Record<number, TlsFiles>;
}

/** A bad command line. */
export function usage(message: string): never {
  throw new WasmloopError('ERR_WASMLOOP_USAGE', `${message} (see wasmloop --help)`);
}

/** Parses the arguments after `run`. */
export function parseRunArgs(argv: string[]): RunArgs {
  const out: RunArgs = {
    module: '',
    listen: [],
    listenfd: false,
    env: {},
    args: [],
    graceMs: 5000,
    drainMs: DEFAULT_DRAIN_MS,
    watch: false,
    maxRestarts: 5,
    limits: {},
    workers: 1,
    watchdogMs: undefined,
    stats: false,
    metrics: undefined,
    driver: 'blocking',
    dirs: [],
    wasi: undefined,
    tlsFiles: {},
  };
  const guestArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      guestArgs.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (out.module === '') out.module = a;
      else guestArgs.push(a);
      continue;
    }
    i = takeOption(out, argv, i);
  }
  checkRunArgs(out);
  out.args = [out.module, ...guestArgs];
  return out;
}

/** Applies the option at argv[i]; returns the index of the last word it used. */
function takeOption(out: RunArgs, argv: string[], i: number): number {
  const a = argv[i]!;
  // --flag=value, -Wname=value, or the value as the next word.
  const eq = a.startsWith('--') ? a.indexOf('=') : -1;
  const joined = a.startsWith('-W') && a.length > 2;
  const flag = joined ? '-W' : eq > 0 ? a.slice(0, eq) : a;
  const need = (what: string): string => {
    const v = joined ? a.slice(2) : eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) usage(`${flag} needs ${what}`);
    return v;
  };
  applyOption(out, flag, need, a);
  return i;
}

/** One option; `need` returns its value (an option without one never asks). */
function applyOption(
  out: RunArgs,
  flag: string,
  need: (what: string) => string,
  word: string,
): void {
  switch (flag) {
    case '--tcplisten':
      out.listen.push(parseHostPort(need('HOST:PORT')));
      break;
    case '--listenfd':
      out.listenfd = true;
      break;
    case '--env':
      addEnv(out.env, need('NAME[=VALUE]'));
      break;
    case '--grace-ms':
      out.graceMs = intOption(flag, need('a whole number'));
      break;
    case '--drain-ms':
      out.drainMs = intOption(flag, need('a whole number'));
      break;
    case '--watch':
      out.watch = true;
      break;
    case '--max-restarts':
      out.maxRestarts = intOption(flag, need('a whole number'));
      break;
    case '--workers':
      out.workers = intOption(flag, need('a whole number'));
      break;
    case '--watchdog-ms':
      out.watchdogMs = intOption(flag, need('a whole number'));
      break;
    case '--stats':
      out.stats = true;
      break;
    case '--metrics':
      out.metrics = parseHostPort(need('HOST:PORT'));
      break;
    case '--driver':
      out.driver = driverOption(need('blocking or libuv'));
      break;
    case '--dir':
      out.dirs.push(parseDirOption(need('HOST_DIR[::GUEST_DIR]')));
      break;
    case '--wasi':
      out.wasi = parseWasiBackend(need('wasmer or node'));
      break;
    case '-W':
      addLimit(out.limits, need('NAME=VALUE'));
      break;
    case '--tls-cert':
    case '--tls-key':
    case '--tls-sni-cert':
    case '--tls-sni-key':
      addTlsFile(out, flag, need('a PEM file'));
      break;
    default:
      unknownOption(word, out.module !== '');
  }
}

function intOption(name: string, value: string): number {
  if (!/^\d+$/.test(value)) usage(`${name} needs a whole number`);
  return Number(value);
}

/** `--env NAME=VALUE`, or `--env NAME` for the host's value of NAME. */
function addEnv(env: Record<string, string>, v: string): void {
  if (v === '' || v.startsWith('=')) usage('--env needs NAME[=VALUE]');
  const at = v.indexOf('=');
  if (at < 0) env[v] = process.env[v] ?? '';
  else env[v.slice(0, at)] = v.slice(at + 1);
}

function driverOption(v: string): RunArgs['driver'] {
  if (v !== 'blocking' && v !== 'libuv') usage('--driver needs blocking or libuv');
  return v;
}

function addLimit(limits: Limits, v: string): void {
  const [name, n] = parseLimit(v);
  limits[name] = n;
}

/** `--tls-cert`/`--tls-key` (and each `--tls-sni-cert`/`--tls-sni-key` pair) apply to the
 *  `--tcplisten` before them. */
function addTlsFile(out: RunArgs, flag: string, file: string): void {
  const at = out.listen.length - 1;
  if (at < 0) usage(`${flag} applies to the --tcplisten before it; there is none`);
  const files = (out.tlsFiles[at] ??= { sni: [] });
  const which = flag.endsWith('-cert') ? 'cert' : 'key';
  if (!flag.startsWith('--tls-sni-')) {
    if (files[which] !== undefined) usage(`${flag} given twice for one --tcplisten`);
    files[which] = file;
    return;
  }
  const last = files.sni.at(-1);
  if (last === undefined || last[which] !== undefined) files.sni.push({ [which]: file });
  else last[which] = file;
}

function unknownOption(word: string, afterModule: boolean): never {
  usage(
    afterModule
      ? `unknown option '${word}' (a guest argument that starts with - goes after --)`
      : `unknown option '${word}'`,
  );
}

/** What no single option can check. */
function checkRunArgs(out: RunArgs): void {
  if (out.module === '') usage('missing the module to run');
  for (const files of Object.values(out.tlsFiles)) {
    if (files.cert === undefined || files.key === undefined)
      usage('a TLS listener needs both --tls-cert FILE and --tls-key FILE');
    if (files.sni.some((f) => f.cert === undefined || f.key === undefined))
      usage('each --tls-sni-cert FILE needs its --tls-sni-key FILE');
  }
  if (out.workers > MAX_WORKERS) usage(`--workers takes at most ${MAX_WORKERS}`);
  if (out.workers === 0 && (out.watchdogMs ?? 0) > 0) {
    usage(
      '--watchdog-ms needs worker threads: with --workers 0 the guest runs on the main thread, where nothing can stop it',
    );
  }
}
