/**
 * The embedding API: `createLoop()` serves a wasmloop guest from inside a Node program.
 * Untrusted guest code never runs on the calling thread: by default the loop runs on one
 * worker thread under the pool's watchdog (host/driver/workers.ts), so a guest that never returns
 * is stopped and the rest of the program keeps running. `workers: N` runs N loops, one per
 * thread, sharing the ports with SO_REUSEPORT. `workers: 0` runs the loop on the calling
 * thread (libuv driver by default) for trusted guests only: nothing can stop it there.
 */
import { checkLimitValues, type Limits } from './limits.ts';
import { openAllListeners } from './listeners.ts';
import { checkOptions, type CheckedOptions } from './options.ts';
import { prepareGuest, usesWasi } from './module.ts';
import { loadNative, type NativeKernel } from './kernel/native.ts';
import { defaultOnTrap, NativeLoop } from './driver/native-loop.ts';
import {
  DEFAULT_DRAIN_MS,
  type CreateLoopOptions,
  type LoopConfig,
  type WasmLoop,
} from './types.ts';
import type { Fd } from './kernel/contract.ts';
import { initWasi } from './guest/wasi.ts';
import { startWorkers } from './driver/workers.ts';
import { attachTls, freeTlsContexts, markTlsListeners } from './tls.ts';

export { WasmloopError, type WasmloopErrorCode } from './errors.ts';
export { compileGuest } from './module.ts';
export { runCommand, type RunCommandOptions } from './command/embed.ts';
export type { PreopenDir, WasiBackendName } from './command/command.ts';
export { GuestTrap } from './guest/env.ts';
export { declaredLimits, HOST_LIMITS, KNOWN_LIMITS, type LimitSpec } from './limits.ts';
export type { LoopStats } from './guest/loop.ts';
export type { ListenAddress } from './address.ts';
export type { CloseOptions, CreateLoopOptions, ListenOptions, WasmLoop } from './types.ts';
export { setCertificate, type TlsCertificate, type TlsOptions, type TlsStats } from './tls.ts';

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
  const tls = tlsListeners(native, fds, o.listen, limits);
  try {
    return attachTls(
      await startLoop(o, native, { module, fds, addresses, limits, given }),
      native,
      tls,
    );
  } catch (err) {
    freeTlsContexts(native, tls);
    throw err;
  }
}

/** The TLS contexts of the listeners, by index (-1: plaintext); closes every fd on failure. */
function tlsListeners(
  native: NativeKernel,
  fds: Fd[],
  list: CheckedOptions['listen'],
  limits: Record<string, number>,
): number[] {
  try {
    return markTlsListeners(native, fds, list, {
      handshakeTimeoutMs: limits['tls-handshake-timeout-ms'] ?? 10000,
      maxHandshakes: limits['tls-max-handshakes'] ?? 1024,
    });
  } catch (err) {
    for (const fd of fds) native.close(fd);
    throw err;
  }
}

/** The loop on worker threads, or (workers: 0) on the calling thread. */
async function startLoop(
  o: CheckedOptions,
  native: NativeKernel,
  opened: Pick<LoopConfig, 'module' | 'fds' | 'addresses' | 'limits'> & { given: Limits },
): Promise<WasmLoop> {
  const inherited = o.listenFds ?? [];
  const { module, fds, addresses, limits, given } = opened;
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
