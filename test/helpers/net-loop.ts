/**
 * Starting wasmloop loops for end-to-end tests, on 127.0.0.1 port 0, and closing them all in
 * an `after` hook (`closeAllLoops()`), whether or not the test passed.
 */
import { createLoop, type CreateLoopOptions, type WasmLoop } from '../../host/index.ts';
import type { GuestTrap, LoopStats } from '../../host/index.ts';
import { sleep, waitFor } from './net-tcp.ts';

const loops = new Set<WasmLoop>();

export interface Started {
  loop: WasmLoop;
  port: number;
}

/** Serves `module` on 127.0.0.1:0; returns the loop and the port it got. */
export async function startLoop(
  module: string,
  extra: Partial<CreateLoopOptions> = {},
): Promise<Started> {
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

/** Worker threads (the default mode) publish their counters every 50 ms: this long after an
 *  event, stats() includes it. */
const STATS_LAG_MS = 120;

/** The loop's counters once they include everything that happened before the call (in the
 *  default mode a worker publishes them every 50 ms; on the calling thread they are live). */
export async function settledStats(loop: WasmLoop): Promise<LoopStats> {
  await sleep(STATS_LAG_MS);
  return loop.stats();
}

/** Waits for counters, published after the call, that satisfy `cond` (a condition the
 *  all-zero counters of a worker that has not published yet must not pass by accident). */
export async function waitStats(
  loop: WasmLoop,
  cond: (s: LoopStats) => boolean,
  what: string,
  ms?: number,
): Promise<LoopStats> {
  await sleep(STATS_LAG_MS);
  return waitFor(
    () => {
      const s = loop.stats();
      return cond(s) && s;
    },
    what,
    ms,
  );
}
