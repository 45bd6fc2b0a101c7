/**
 * Running the project's guests over the simulated kernel with the public testing API
 * (host/testing.ts, `wasmloop/testing`): `simLoop('echo')` instantiates wasm/echo.wasm (or
 * wasm/debug/echo.wasm) on one simulated listener; `run()` ticks the loop until nothing is left
 * to do. What this adds: guests by name, both builds, and compiled modules cached across tests.
 */
import { resolve } from 'node:path';
import { loadModule } from '../../host/module.ts';
import { simulate, type GuestSim, type GuestSimOptions } from '../../host/testing.ts';

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

/** simLoop's options: wasmloop/testing's, and which build of the guest. */
export interface SimLoopOptions extends GuestSimOptions {
  flavour?: Flavour;
}

export type SimLoop = GuestSim;

/** A guest of wasm/ (`echo`, `test/evil`) over the simulated kernel (host/testing.ts). */
export async function simLoop(guest: string, opts: SimLoopOptions = {}): Promise<SimLoop> {
  return simulate(await guestModule(guest, opts.flavour, opts.limits?.['max-memory-size']), opts);
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
