/**
 * What a NativeLoop (host/driver/native-loop.ts) is given, and the default trap report.
 */
import type { GuestTrap } from '../guest/env.ts';
import type { NativeKernel } from '../kernel/native.ts';
import type { LoopConfig, ReloadConfig } from '../types.ts';
import type { Handoff } from './handoff.ts';

export type Driver = 'libuv' | 'blocking';

export interface NativeLoopOptions extends LoopConfig {
  native: NativeKernel;
  /** True when this loop closes the listening fds when it stops (false: a worker pool owns them). */
  ownsListeners: boolean;
  /** How the thread waits for events (see the top of this file); default libuv. */
  driver?: Driver;
  onTrap: (err: GuestTrap, restarting: boolean) => void;
  signal?: AbortSignal;
  /** Worker mode: told when a guest call starts (true) and ends (false), for the watchdog. */
  onBusy?: (busy: boolean, nowMs?: number) => void;
  /** Worker mode: a shared mirror of the open fds, so the pool can close them if it must
   *  replace this thread. */
  registry?: Int32Array;
  /** How many equal parts `registry` holds (host/guest/loop-options.ts). */
  registryParts?: number;
  /** Worker mode: a shared list of the connections between guest instances (host/driver/handoff.ts). */
  handoff?: Handoff;
  /** What `reload(source)` needs (on the calling thread; a worker gets prepared modules). */
  reloads?: ReloadConfig;
}

/** The default trap report: one line on stderr. */
export function defaultOnTrap(err: GuestTrap, restarting: boolean): void {
  process.stderr.write(`wasmloop: ${err.message}${restarting ? ' (restarting the guest)' : ''}\n`);
}
