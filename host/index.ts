/**
 * The embedding API: `createLoop()` serves a wasmloop guest from inside a Node program.
 * The loop runs on Node's own event loop (the shim registers the epoll fd with libuv), so
 * timers, other servers and clients in the same process keep running. With `workers: N` it
 * runs N loops, one per worker thread, sharing the listening ports with SO_REUSEPORT.
 */
import { checkLimits, effectiveLimits } from './limits.ts';
import { openListeners } from './listeners.ts';
import { checkOptions } from './options.ts';
import { checkGuest, loadModule, usesWasi } from './module.ts';
import { loadNative } from './native.ts';
import { defaultOnTrap, NativeLoop } from './native-loop.ts';
import type { CreateLoopOptions, WasmLoop } from './types.ts';
import { initWasi } from './wasi.ts';
import { startWorkers } from './workers.ts';

export { WasmloopError } from './errors.ts';
export { GuestTrap } from './instance.ts';
export { KNOWN_LIMITS, type Limits } from './limits.ts';
export type { LoopStats } from './loop.ts';
export type { ListenAddress } from './address.ts';
export type { CloseOptions, CreateLoopOptions, ListenOptions, WasmLoop } from './types.ts';

/** Starts serving `module` on the given addresses. Errors are WasmloopError with a `code`;
 *  every option is checked before anything is opened, and a failure closes what was opened. */
export async function createLoop(options: CreateLoopOptions): Promise<WasmLoop> {
  const o = checkOptions(options);
  const native = loadNative();
  const limits = effectiveLimits(checkLimits({ ...o.limits }));
  const module = await loadModule(o.module, limits['max-memory-size']);
  checkGuest(module);
  if (usesWasi(module)) await initWasi();
  const { fds, addresses } = await openListeners(native, o.listen, o.workers > 0);
  const common = {
    module, fds, addresses, limits, native,
    maxRestarts: o.maxRestarts,
    args: o.args ?? [],
    env: o.env ?? {},
    onTrap: o.onTrap ?? defaultOnTrap,
    signal: o.signal,
  };
  if (o.workers > 0) {
    return startWorkers({ ...common, workers: o.workers, watchdogMs: o.watchdogMs, driver: o.driver ?? 'blocking' });
  }
  return new NativeLoop({ ...common, ownsListeners: true, driver: o.driver ?? 'libuv' });
}
