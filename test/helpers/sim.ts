/**
 * Running a guest over the simulated kernel: no sockets, a virtual clock, scripted peers.
 * `simLoop('echo')` instantiates wasm/echo.wasm (or wasm/debug/echo.wasm) on one simulated
 * listener; `run()` ticks the loop until nothing is left to do.
 */
import { resolve } from 'node:path';
import type { GuestTrap } from '../../host/guest/env.ts';
import type { SockAddr } from '../../host/kernel/contract.ts';
import { Loop } from '../../host/guest/loop.ts';
import { loadModule } from '../../host/module.ts';
import { SimKernel, type SimFaults, type SimPeer } from '../../host/kernel/sim/kernel.ts';

/** Both builds of every guest are tested (STYLE: debug and release). */
export const FLAVOURS = ['release', 'debug'] as const;
export type Flavour = (typeof FLAVOURS)[number];

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** The compiled module of a guest: `echo`, `hello`, or `test/evil` (memory capped when asked). */
export function guestModule(
  name: string,
  flavour: Flavour = 'release',
  maxMemory?: number,
): Promise<WebAssembly.Module> {
  const path = resolve('wasm', flavour === 'debug' ? 'debug' : '', `${name}.wasm`);
  const key = `${path}:${maxMemory ?? ''}`;
  let m = modules.get(key);
  if (!m)
    modules.set(
      key,
      (m = loadModule(
        path,
        maxMemory === undefined ? undefined : { 'max-memory-size': maxMemory },
      )),
    );
  return m;
}

export interface SimLoopOptions {
  flavour?: Flavour;
  seed?: number;
  faults?: SimFaults;
  maxFds?: number;
  window?: number;
  limits?: Record<string, number>;
  /** The guest's wall clock (default: the kernel's, SIM_EPOCH_MS plus virtual time). */
  wallClock?: () => number;
  /** Fewer handle generation bits, to reach handle exhaustion quickly (host/guest/handles.ts). */
  generationBits?: number;
  /** A worker-mode registry of open fds (host/guest/loop.ts). */
  registry?: Int32Array;
}

export interface SimLoop {
  kernel: SimKernel;
  loop: Loop;
  traps: GuestTrap[];
  /** A new peer, from `from` (default 127.0.0.1). */
  connect(from?: string): SimPeer;
  /** Ticks until a tick finds no event (or `maxTicks`); returns the ticks that had events. */
  run(maxTicks?: number): number;
  /** Moves the virtual clock and ticks (deadlines that passed run). */
  advance(ms: number): void;
  memoryBytes(): number;
}

/** Ticks until a tick finds no event; the ticks that had events. */
function runUntilIdle(loop: Loop, maxTicks: number): number {
  let busy = 0;
  for (let i = 0; i < maxTicks; i++) {
    if (loop.tick() === 0) return busy;
    busy++;
  }
  throw new Error(`loop still busy after ${maxTicks} ticks`);
}

export async function simLoop(guest: string, opts: SimLoopOptions = {}): Promise<SimLoop> {
  const kernel = new SimKernel({
    seed: opts.seed ?? 1,
    faults: opts.faults ?? {},
    maxFds: opts.maxFds,
    window: opts.window,
  });
  const fd = kernel.listen('127.0.0.1', 0, 1024, false);
  const port = (kernel.localAddress(fd) as SockAddr).port;
  const traps: GuestTrap[] = [];
  const loop = new Loop({
    module: await guestModule(guest, opts.flavour, opts.limits?.['max-memory-size']),
    kernel,
    listeners: [fd],
    now: () => kernel.now,
    wallClock: opts.wallClock ?? (() => kernel.wallMs()),
    limits: opts.limits ?? {},
    seed: () => kernel.randomSeed(),
    onTrap: (err) => traps.push(err),
    generationBits: opts.generationBits,
    registry: opts.registry,
  });
  const run = (maxTicks = 100_000): number => runUntilIdle(loop, maxTicks);
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

/** Deterministic bytes for payloads. */
export function pattern(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Concatenates what a peer has received over several reads. */
export function collect(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}
