/**
 * The embedding API: `createLoop()` serves a wasmloop guest from inside a Node program.
 * The loop runs on Node's own event loop (the shim registers the epoll fd with libuv), so
 * timers, other servers and clients in the same process keep running. With `workers: N` it
 * runs N loops, one per worker thread, sharing the listening ports with SO_REUSEPORT.
 */
import { WasmloopError } from './errors.ts';
import { checkLimits, effectiveLimits } from './limits.ts';
import { openListeners } from './listeners.ts';
import { checkGuest, loadModule, usesWasi } from './module.ts';
import { loadNative } from './native.ts';
import { defaultOnTrap, NativeLoop } from './native-loop.ts';
import type { CreateLoopOptions, WasmLoop } from './types.ts';
import { initWasi } from './wasi.ts';
import { startWorkers } from './workers.ts';

export { WasmloopError } from './errors.ts';
export { compileGuest } from './module.ts';
export { GuestTrap } from './instance.ts';
export { KNOWN_LIMITS, type Limits } from './limits.ts';
export type { LoopStats } from './loop.ts';
export type { ListenAddress } from './address.ts';
export type { CloseOptions, CreateLoopOptions, ListenOptions, WasmLoop } from './types.ts';

/** Starts serving `module` on the given addresses. Errors are WasmloopError with a `code`. */
export async function createLoop(options: CreateLoopOptions): Promise<WasmLoop> {
  const native = loadNative();
  const limits = effectiveLimits(checkLimits({ ...options.limits }));
  const workers = options.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `workers must be a whole number from 0 to 256, not ${String(options.workers)}`);
  }
  const module = await loadModule(options.module, limits);
  checkGuest(module);
  if (usesWasi(module)) await initWasi();
  const { fds, addresses } = await openListeners(native, options.listen, workers > 0);
  const common = {
    module, fds, addresses, limits,
    maxRestarts: options.maxRestarts,
    args: options.args ?? [],
    env: options.env ?? {},
    onTrap: options.onTrap ?? defaultOnTrap,
    signal: options.signal,
  };
  const driver = options.driver;
  if (driver !== undefined && driver !== 'libuv' && driver !== 'blocking') {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `driver must be 'libuv' or 'blocking', not ${String(driver)}`);
  }
  if (workers > 0) {
    return startWorkers({ ...common, native, workers, watchdogMs: options.watchdogMs ?? 5000, driver: driver ?? 'blocking' });
  }
  return new NativeLoop({ ...common, native, ownsListeners: true, driver: driver ?? 'libuv' });
}
