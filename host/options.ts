/**
 * Checking createLoop's options before anything is opened: every wrong type or value is a
 * WasmloopError with a code (ERR_WASMLOOP_USAGE, or _ADDRESS for a listen entry), never a raw
 * TypeError from deep inside, and never a socket left bound. The embedding API is called from
 * plain JavaScript too, so nothing here trusts the TypeScript types.
 */
import { checkPort } from './address.ts';
import { WasmloopError } from './errors.ts';
import { checkTlsOption } from './tls.ts';
import type { CreateLoopOptions, ListenOptions } from './types.ts';

/** Most worker threads one createLoop may start. */
export const MAX_WORKERS = 256;
/** The longest watchdog period (Node timers hold 32-bit milliseconds). */
const MAX_WATCHDOG_MS = 2 ** 31 - 1;

/** CreateLoopOptions as checked: `workers` and `watchdogMs` resolved to numbers. */
export interface CheckedOptions extends CreateLoopOptions {
  workers: number;
  watchdogMs: number;
}

function usage(message: string): never {
  throw new WasmloopError('ERR_WASMLOOP_USAGE', `createLoop: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));

function wholeNumber(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    usage(`${name} must be a whole number from ${min} to ${max}, not ${show(value)}`);
  }
}

function checkModule(module: unknown): void {
  const ok =
    typeof module === 'string' ||
    module instanceof URL ||
    module instanceof Uint8Array ||
    module instanceof ArrayBuffer ||
    module instanceof WebAssembly.Module;
  if (!ok)
    usage(`module must be a path, a URL, bytes or a WebAssembly.Module, not ${show(module)}`);
}

function checkListen(listen: unknown, listenFds: unknown): void {
  if (
    listenFds !== undefined &&
    !(Array.isArray(listenFds) && listenFds.every((fd) => Number.isSafeInteger(fd) && fd >= 0))
  )
    usage('listenFds must be an array of file descriptors');
  const inherited = Array.isArray(listenFds) ? listenFds.length : 0;
  if (!Array.isArray(listen) || (listen.length === 0 && inherited === 0)) {
    throw new WasmloopError(
      'ERR_WASMLOOP_ADDRESS',
      'createLoop: listen must be a non-empty array of { host?, port } (or empty, given listenFds)',
    );
  }
  listen.forEach((l: unknown, i) => {
    if (!isObject(l)) usage(`listen[${i}] must be an object { host?, port }, not ${show(l)}`);
    const { host, port, backlog, reusePort } = l as Partial<ListenOptions>;
    checkPort(port as number, `listen[${i}].port = ${show(port)}`);
    if (host !== undefined && (typeof host !== 'string' || host === ''))
      usage(`listen[${i}].host must be a non-empty string`);
    wholeNumber(`listen[${i}].backlog`, backlog, 1, 65535);
    if (reusePort !== undefined && typeof reusePort !== 'boolean')
      usage(`listen[${i}].reusePort must be a boolean`);
    checkTlsOption((l as Partial<ListenOptions>).tls, `listen[${i}]`);
  });
}

function checkWasiInputs(args: unknown, env: unknown): void {
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string')))
    usage('args must be an array of strings');
  if (
    env !== undefined &&
    !(isObject(env) && Object.values(env).every((v) => typeof v === 'string'))
  ) {
    usage('env must be an object of strings');
  }
}

/** Checks every option; throws a WasmloopError at the first wrong one. */
export function checkOptions(options: unknown): CheckedOptions {
  if (!isObject(options))
    usage(`needs an options object { module, listen, ... }, not ${show(options)}`);
  const o = options as unknown as CreateLoopOptions;
  checkModule(o.module);
  checkListen(o.listen, o.listenFds);
  checkWasiInputs(o.args, o.env);
  if (o.limits !== undefined && !isObject(o.limits)) usage('limits must be an object of numbers');
  wholeNumber('maxRestarts', o.maxRestarts, 0, Number.MAX_SAFE_INTEGER);
  wholeNumber('workers', o.workers, 0, MAX_WORKERS);
  wholeNumber('watchdogMs', o.watchdogMs, 0, MAX_WATCHDOG_MS);
  wholeNumber('drainMs', o.drainMs, 0, MAX_WATCHDOG_MS);
  const workers = o.workers ?? 1;
  if (workers === 0 && o.watchdogMs !== undefined && o.watchdogMs > 0) {
    usage(
      'watchdogMs needs worker threads: with workers: 0 the guest runs on the calling thread, where nothing can stop it',
    );
  }
  if (o.driver !== undefined && o.driver !== 'libuv' && o.driver !== 'blocking')
    usage(`driver must be 'libuv' or 'blocking', not ${show(o.driver)}`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    usage('signal must be an AbortSignal');
  if (o.onTrap !== undefined && typeof o.onTrap !== 'function') usage('onTrap must be a function');
  return { ...o, workers, watchdogMs: o.watchdogMs ?? 5000 };
}
