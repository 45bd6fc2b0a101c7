/**
 * What a guest instance (host/guest/instance.ts) is given by the loop that starts it.
 */
import type { Handoff } from '../driver/handoff.ts';
import type { Fd, Kernel } from '../kernel/contract.ts';
import type { PeerGuard } from './peer-guard.ts';

export interface InstanceOptions {
  kernel: Kernel;
  epfd: Fd;
  /** Listener fds, granted to the guest as handles in this order. */
  listeners: readonly Fd[];
  now: () => number;
  /** Wall-clock ms since the Unix epoch for `wall_ms` (default Date.now). */
  wallClock?: () => number;
  /** Extra import modules (WASI), and a hook that sees the instance before it runs. */
  extraImports?: WebAssembly.Imports;
  onInstantiate?: (instance: WebAssembly.Instance) => void;
  /** Where `env.trace` output goes. */
  trace?: (line: string) => void;
  /** Values for the `limit` hostcall (host/limits.ts). */
  limits?: Readonly<Record<string, number>>;
  /** A shared mirror of the handle table's fds (HandleTable). */
  registry?: Int32Array;
  /** Lists connections while they are between instances (host/driver/handoff.ts). */
  handoff?: Handoff;
  /** The source of `env.seed` (the simulated kernel's PRNG, so that runs replay exactly). */
  seed?: () => number;
  /** The loop's trap budget per peer: accept closes connections of blocked peers. */
  peerGuard?: PeerGuard;
  /** The loop's failed accepts by errno (host/guest/loop-metrics.ts), outliving instances. */
  acceptErrors?: number[];
  /** Tests only: fewer handle generation bits, to reach exhaustion quickly (host/guest/handles.ts). */
  generationBits?: number;
  /** Started by a reload while the instance it replaces still serves: the tokens that route
   *  events to retiring instances are refused (host/guest/retiring.ts). */
  reserveTokens?: boolean;
}
