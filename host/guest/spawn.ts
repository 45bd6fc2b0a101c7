/**
 * Starting one guest instance of a Loop (host/guest/loop.ts): its imports, its WASI binding,
 * its part of the handle registry. Runs guest code (the start function, wl_init), so the loop
 * calls it where its watchdog sees it.
 */
import type { Fd } from '../kernel/contract.ts';
import { usesWasi } from '../module.ts';
import { GuestInstance } from './instance.ts';
import type { LoopOptions } from './loop-options.ts';
import type { PeerGuard } from './peer-guard.ts';
import { createWasi, type WasiBinding } from './wasi.ts';

/** What the loop adds to its options for one instance. */
export interface InstancePlace {
  epfd: Fd;
  now: () => number;
  guard: PeerGuard;
  /** Its part of the handle registry (one per instance that may run at once). */
  part: number;
  /** Started by a reload while other instances retire (host/guest/retiring.ts). */
  reserveTokens: boolean;
  /** Failed accepts by errno, shared by every instance of the loop (countAcceptError). */
  acceptErrors: number[];
  /** Its limits (a reloaded module's declaration may differ from the first's). */
  limits: Readonly<Record<string, number>>;
}

/** A started instance of `module` and its WASI binding (null: it imports no WASI). */
export function startInstance(
  module: WebAssembly.Module,
  opts: LoopOptions,
  at: InstancePlace,
): { instance: GuestInstance; wasi: WasiBinding | null } {
  const wasi = usesWasi(module) ? createWasi(module, opts.wasi ?? {}) : null;
  const instance = new GuestInstance(module, {
    kernel: opts.kernel,
    epfd: at.epfd,
    listeners: opts.listeners,
    now: at.now,
    reserveTokens: at.reserveTokens,
    ...(opts.wallClock ? { wallClock: opts.wallClock } : {}),
    limits: at.limits,
    registry: registryPart(opts, at.part),
    handoff: opts.handoff,
    seed: opts.seed,
    peerGuard: at.guard,
    acceptErrors: at.acceptErrors,
    generationBits: opts.generationBits,
    ...(wasi ? { extraImports: wasi.imports, onInstantiate: (i) => wasi.bind(i) } : {}),
  });
  return { instance, wasi };
}

/** Part `part` of the handle registry, which holds `registryParts` equal parts. */
function registryPart(opts: LoopOptions, part: number): Int32Array | undefined {
  const registry = opts.registry;
  if (registry === undefined) return undefined;
  const size = registry.length / (opts.registryParts ?? 1);
  return registry.subarray(part * size, (part + 1) * size);
}
