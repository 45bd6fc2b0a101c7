/**
 * `wasmloop/testing`: a guest's unit tests in pure wasm, over the simulated kernel
 * (host/kernel/sim/, docs/SIMULATION.md): no sockets, no threads, a virtual clock, scripted
 * peers and seeded faults. Deterministic: the same module, seed and script give the same bytes
 * in the same order, so a failing seed replays exactly. Any test runner works (node:test, uvu).
 *
 *   const sim = await loadGuest('build/app.wasm');
 *   const peer = sim.connect();
 *   peer.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
 *   sim.run();
 *   peer.readText(); // 'HTTP/1.1 200 OK\r\n...'
 *
 * The project's own tests use this module too (test/helpers/sim.ts).
 */
import type { GuestTrap } from './guest/env.ts';
import { Loop } from './guest/loop.ts';
import type { SockAddr } from './kernel/contract.ts';
import { drawFaults } from './kernel/sim/fault-draw.ts';
import { SimKernel, type SimFaults, type SimPeer } from './kernel/sim/kernel.ts';
import { Random } from './kernel/sim/random.ts';
import { loadModule, type ModuleSource } from './module.ts';

export { SimKernel, SimPeer, SIM_EPOCH_MS, FAULT_KINDS } from './kernel/sim/kernel.ts';
export type { SimFaults, FaultKind, SimKernelOptions } from './kernel/sim/kernel.ts';
export { GuestTrap } from './guest/env.ts';
export { Loop } from './guest/loop.ts';
export type { LoopStats } from './guest/loop-options.ts';

export interface GuestSimOptions {
  /** The kernel's PRNG seed (default 1): every fault decision is drawn from it. */
  seed?: number;
  /** Kernel faults from the start (short reads and writes, EAGAIN, spurious readiness,
   *  reordering); `sim.kernel.faults` can be changed at any time. See `seededFaults`. */
  faults?: SimFaults;
  /** Descriptors the kernel allows before accept fails with EMFILE (default 65536). */
  maxFds?: number;
  /** Each new peer's receive window in bytes (default 4 MiB). */
  window?: number;
  /** Values of the guest's limits (`-W NAME=VALUE` of `wasmloop run`); `max-memory-size`
   *  caps the module's memory as the host does. */
  limits?: Record<string, number>;
  /** The guest's wall clock (default: SIM_EPOCH_MS plus the virtual time). */
  wallClock?: () => number;
  /** Fewer handle generation bits, to reach handle exhaustion quickly (host/guest/handles.ts). */
  generationBits?: number;
  /** A worker-mode registry of open fds (host/guest/loop.ts). */
  registry?: Int32Array;
}

/** One guest instance on one simulated listener. */
export interface GuestSim {
  kernel: SimKernel;
  loop: Loop;
  /** Every trap the guest had (a trap restarts the instance, as under `wasmloop run`). */
  traps: GuestTrap[];
  /** A new peer connected to the listener, from `from` (default 127.0.0.1). Nothing happens
   *  until the loop runs. */
  connect(from?: string): SimPeer;
  /** Ticks until a tick finds no event (at most `maxTicks`, default 100000: throws past it);
   *  returns the ticks that had events. */
  run(maxTicks?: number): number;
  /** Moves the virtual clock `ms` forward and runs: deadlines that passed fire. */
  advance(ms: number): void;
  /** The guest's linear memory size in bytes. */
  memoryBytes(): number;
}

/** Loads a guest (a path, its bytes or a module compileGuest made) over a new simulated kernel
 *  with one listener. Throws as createLoop does for a module that is not a guest. */
export async function loadGuest(
  source: ModuleSource,
  options: GuestSimOptions = {},
): Promise<GuestSim> {
  const maxMemory = options.limits?.['max-memory-size'];
  const module =
    source instanceof WebAssembly.Module
      ? source
      : await loadModule(
          source,
          maxMemory === undefined ? undefined : { 'max-memory-size': maxMemory },
        );
  return simulate(module, options);
}

/** A GuestSim of a module already loaded (with the caps the test wants). */
export function simulate(module: WebAssembly.Module, options: GuestSimOptions = {}): GuestSim {
  const kernel = new SimKernel({
    seed: options.seed ?? 1,
    faults: options.faults ?? {},
    maxFds: options.maxFds,
    window: options.window,
  });
  const fd = kernel.listen('127.0.0.1', 0, 1024, false);
  const port = (kernel.localAddress(fd) as SockAddr).port;
  const traps: GuestTrap[] = [];
  const loop = new Loop({
    module,
    kernel,
    listeners: [fd],
    now: () => kernel.now,
    wallClock: options.wallClock ?? (() => kernel.wallMs()),
    limits: options.limits ?? {},
    seed: () => kernel.randomSeed(),
    onTrap: (err) => traps.push(err),
    generationBits: options.generationBits,
    registry: options.registry,
  });
  const run = (maxTicks = 100_000): number => tickUntilIdle(loop, maxTicks);
  return {
    kernel,
    loop,
    traps,
    connect: (from) => kernel.connect(port, undefined, from),
    run,
    advance(ms) {
      kernel.advance(ms);
      loop.tick(true);
      run();
    },
    memoryBytes: () => loop.instance?.memory.byteLength ?? 0,
  };
}

/** Ticks until a tick finds no event; the ticks that had events. Throws past `maxTicks`. */
function tickUntilIdle(loop: Loop, maxTicks: number): number {
  let busy = 0;
  for (let i = 0; i < maxTicks; i++) {
    if (loop.tick() === 0) return busy;
    busy++;
  }
  throw new Error(`loop still busy after ${maxTicks} ticks`);
}

/** The kernel faults a property run draws for `seed` (`npm run sim`, docs/SIMULATION.md):
 *  short reads and writes, byte caps, EAGAIN storms, spurious readiness, reordering, each on
 *  or off and at a strength drawn from the seed. Roughly a quarter of seeds draw none, so
 *  the common path is tested too. Peers' resets and half-closes are `peer.reset()` and
 *  `peer.shutdownWrite()`; failing accepts `sim.kernel.failAccept(errno)`. */
export function seededFaults(seed: number): SimFaults {
  const rng = new Random(seed);
  return drawFaults(rng, rng.next() < 0.25);
}

/** Runs `check` once per seed, in order; a failure is rethrown with the seed that replays it
 *  (`loadGuest(module, { seed, faults: seededFaults(seed) })` in `check`, say). */
export async function forEachSeed(
  seeds: Iterable<number>,
  check: (seed: number) => void | Promise<void>,
): Promise<void> {
  for (const seed of seeds) {
    try {
      await check(seed);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`seed ${seed} failed (replay it with this seed alone): ${message}`, {
        cause: err,
      });
    }
  }
}

/** Seeds `from`, `from + 1`, ... `from + count - 1`, for forEachSeed. */
export function seeds(count: number, from = 1): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}
