/**
 * The embedding API: `createLoop()` serves a wasmloop guest from inside a Node program.
 * Untrusted guest code never runs on the calling thread: by default the loop runs on one
 * worker thread under the pool's watchdog (host/driver/workers.ts), so a guest that never returns
 * is stopped and the rest of the program keeps running. `workers: N` runs N loops, one per
 * thread, sharing the ports with SO_REUSEPORT. `workers: 0` runs the loop on the calling
 * thread (libuv driver by default) for trusted guests only: nothing can stop it there.
 */
import { checkLimitValues } from './limits.ts';
import { openAllListeners } from './listeners.ts';
import { checkOptions } from './options.ts';
import { prepareGuest, usesWasi } from './module.ts';
import { loadNative } from './kernel/native.ts';
import { defaultOnTrap, NativeLoop } from './driver/native-loop.ts';
import { DEFAULT_DRAIN_MS, type CreateLoopOptions, type WasmLoop } from './types.ts';
import type { Fd } from './kernel/contract.ts';
import { initWasi } from './guest/wasi.ts';
import { startWorkers } from './driver/workers.ts';

export { WasmloopError, type WasmloopErrorCode } from './errors.ts';
export { compileGuest } from './module.ts';
export { GuestTrap } from './guest/env.ts';
export {
  declaredLimits,
  HOST_LIMITS,
  KNOWN_LIMITS,
  type LimitSpec,
  type Limits,
} from './limits.ts';
export type { LoopStats } from './guest/loop.ts';
export type { ListenAddress } from './address.ts';
export type { CloseOptions, CreateLoopOptions, ListenOptions, WasmLoop } from './types.ts';

/** Starts serving `module` on the given addresses. Errors are WasmloopError with a `code`;
 *  every option is checked before anything is opened, and a failure closes what was opened. */
export async function createLoop(options: CreateLoopOptions): Promise<WasmLoop> {
  const o = checkOptions(options);
  const native = loadNative();
  const given = checkLimitValues({ ...o.limits });
  // Names and ranges against the module's own declaration; the guest gets its declared defaults.
  const { module, limits } = await prepareGuest(o.module, given);
  if (usesWasi(module)) await initWasi();
  // One worker needs no SO_REUSEPORT (its replacement takes over the same sockets); more do.
  const inherited = (o.listenFds ?? []) as Fd[]; // checked by checkOptions
  const { fds, addresses } = await openAllListeners(native, o.listen, inherited, o.workers > 1);
  const common = {
    module,
    fds,
    addresses,
    limits,
    native,
    maxRestarts: o.maxRestarts,
    args: o.args ?? [],
    env: o.env ?? {},
    onTrap: o.onTrap ?? defaultOnTrap,
    signal: o.signal,
    reloads: { given, drainMs: o.drainMs ?? DEFAULT_DRAIN_MS },
  };
  if (o.workers > 0) {
    return startWorkers({
      ...common,
      workers: o.workers,
      inherited: inherited.length,
      watchdogMs: o.watchdogMs,
      driver: o.driver ?? 'blocking',
    });
  }
  // workers: 0, the explicit opt-in for trusted guests: no watchdog (docs/DESIGN.md).
  return new NativeLoop({ ...common, ownsListeners: true, driver: o.driver ?? 'libuv' });
}
