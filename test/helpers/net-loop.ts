/**
 * Starting wasmloop loops for end-to-end tests, on 127.0.0.1 port 0, and closing them all in
 * an `after` hook (`closeAllLoops()`), whether or not the test passed.
 */
import { createLoop, type CreateLoopOptions, type WasmLoop } from '../../host/index.ts';
import type { GuestTrap } from '../../host/index.ts';

const loops = new Set<WasmLoop>();

export interface Started {
  loop: WasmLoop;
  port: number;
}

/** Serves `module` on 127.0.0.1:0; returns the loop and the port it got. */
export async function startLoop(module: string, extra: Partial<CreateLoopOptions> = {}): Promise<Started> {
  const loop = await createLoop({ module, listen: [{ host: '127.0.0.1', port: 0 }], ...extra });
  loops.add(loop);
  const port = loop.address().port;
  if (!(port > 0)) throw new Error(`loop reported port ${port}`);
  return { loop, port };
}

/** Closes every loop started with startLoop() (grace 0: the test is over). */
export async function closeAllLoops(): Promise<void> {
  const all = [...loops];
  loops.clear();
  await Promise.all(all.map((l) => l.close({ graceMs: 0 })));
}

/** An onTrap callback that records the traps instead of printing them. */
export function trapRecorder() {
  const traps: Array<{ message: string; code: string; restarting: boolean }> = [];
  const onTrap = (err: GuestTrap, restarting: boolean) => {
    traps.push({ message: err.message, code: err.code, restarting });
  };
  return { traps, onTrap };
}
