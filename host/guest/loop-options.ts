/**
 * What a Loop (host/guest/loop.ts) is made with, and the counters it reports.
 */
import type { WasmloopError } from '../errors.ts';
import type { Handoff } from '../driver/handoff.ts';
import type { GuestTrap } from './env.ts';
import type { GuestStats } from './exports.ts';
import type { Fd, Kernel } from '../kernel/contract.ts';
import type { WasiOptions } from './wasi.ts';

export interface LoopStats extends GuestStats {
  restarts: number;
  /** Connections the host closed because their peer spent its trap budget (host/guest/peer-guard.ts). */
  connectionsRefused: number;
  /** Times a peer was blocked for spending its trap budget. */
  peersBlocked: number;
}

export interface LoopOptions {
  module: WebAssembly.Module;
  kernel: Kernel;
  /** Listening fds, handed to the guest as listener 0, 1, ... The caller owns and closes them. */
  listeners: readonly Fd[];
  now?: () => number;
  /** The guest's wall clock (`wall_ms`, for Date headers); default Date.now. */
  wallClock?: () => number;
  maxRestarts?: number;
  /** Values for the guest's `limit` hostcall (host/limits.ts). */
  limits?: Readonly<Record<string, number>>;
  /** WASI args/env/output for guests that import WASI (initWasi() must have run). */
  wasi?: WasiOptions;
  /** A trap was caught; `restarting` is false when the restart budget is spent. */
  onTrap?: (err: GuestTrap, restarting: boolean) => void;
  /** The guest asked to be called in `ms` (drivers arm a timer and call `tick()`). */
  onDeadline?: (ms: number) => void;
  /** Told when a guest call starts (true) and returns (false): a watchdog's view of the guest.
   *  `nowMs` is the loop's `now` reading at the start of a dispatch, when it has one. */
  onBusy?: (busy: boolean, nowMs?: number) => void;
  /** A shared mirror of the open fds: slot 0 holds the epoll fd, the rest the handle table. */
  registry?: Int32Array;
  /** The registry holds this many equal parts (default 1), one per instance that may run at
   *  once: a reload overlaps them (host/guest/reload.ts), so it needs two or more. */
  registryParts?: number;
  /** A shared mirror of the connections between instances (saved from a trap, not yet
   *  adopted), so that whoever kills the thread closes them too (host/driver/handoff.ts). */
  handoff?: Handoff;
  /** The source of the guest's `env.seed` (default: Math.random). */
  seed?: () => number;
  /** Tests only: fewer handle generation bits (host/guest/handles.ts), to reach exhaustion quickly. */
  generationBits?: number;
  /** Called in finish() just before the epoll fd is closed (drivers stop watching it here). */
  onStopping?: () => void;
  /** The loop finished closing: `err` is set when it could not go on (restart budget spent,
   *  epoll failure) rather than being asked to stop. */
  onClosed?: (err?: WasmloopError) => void;
}
