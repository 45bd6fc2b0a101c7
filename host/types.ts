/** The public types of the embedding API (re-exported by host/index.ts). */
import type { ListenAddress } from './address.ts';
import type { GuestTrap } from './guest/env.ts';
import type { Fd } from './kernel/contract.ts';
import type { Limits } from './limits.ts';
import type { LoopStats } from './guest/loop.ts';
import type { ModuleSource } from './module.ts';
import type { TlsOptions, TlsStats } from './tls.ts';

export interface ListenOptions {
  host?: string;
  port: number;
  backlog?: number;
  reusePort?: boolean;
  /** Serve TLS on this listener (docs/EMBEDDING.md): PEM certificate and key, strings or
   *  Buffers, and optionally more certificates chosen by SNI. The guest sees plaintext. */
  tls?: TlsOptions;
}

export interface CreateLoopOptions {
  /** A path to a .wasm file, its bytes, or a module compiled by compileGuest (host/module.ts). */
  module: ModuleSource;
  /** Where to listen; each becomes listener 0, 1, ... of the guest. Host defaults to 127.0.0.1. */
  listen: ListenOptions[];
  /** Listening TCP sockets opened elsewhere (e.g. passed by systemd: `wasmloop run --listenfd`),
   *  handed over to the loop, which checks them, makes them non-blocking and closes them. They
   *  are the guest's listeners after those of `listen`, in order (`listen` may then be empty). */
  listenFds?: number[];
  /** WASI arguments and environment (only for guests that import WASI). */
  args?: string[];
  env?: Record<string, string>;
  /** Named limits passed to the guest, e.g. { 'max-connections': 1000 } (see KNOWN_LIMITS). */
  limits?: Limits;
  /** Traps in a row before the loop gives up (default 5). */
  maxRestarts?: number;
  /** How many loops, each on its own worker thread with its own epoll fd and guest instance,
   *  supervised by the watchdog; with more than one the listeners are shared with SO_REUSEPORT
   *  (default 1, at most 256). 0 runs one loop on the calling thread instead: for trusted
   *  guests only, since nothing can interrupt wasm there (no watchdog: a guest call that never
   *  returns hangs the thread; docs/DESIGN.md says why). */
  workers?: number;
  /** A guest call (wl_init included) running longer than this is stopped by replacing its
   *  worker thread; during start-up createLoop then rejects with ERR_WASMLOOP_INIT (default
   *  5000 ms; 0 disables the watchdog; refused with workers: 0). */
  watchdogMs?: number;
  /** How a loop's thread waits for events: 'libuv' (uv_poll: the thread stays free for the rest
   *  of the program) or 'blocking' (our own epoll_wait, like a C server, yielding to Node every
   *  20 ms; faster, for threads that do nothing else). Default: 'blocking' in worker threads,
   *  'libuv' on the calling thread (workers: 0). */
  driver?: 'libuv' | 'blocking';
  /** Aborting closes the loop gracefully. */
  signal?: AbortSignal;
  /** Called for every guest trap; by default it is written to stderr. */
  onTrap?: (err: GuestTrap, restarting: boolean) => void;
  /** After a reload, how long the replaced instance may take to finish the requests it was
   *  serving before what it still holds is closed (default 30000 ms). */
  drainMs?: number;
}

export interface CloseOptions {
  /** How long in-flight connections may take to finish before they are closed (default 5000). */
  graceMs?: number;
}

export interface WasmLoop {
  /** The first listener's address (with the real port when port 0 was asked for). */
  address(): ListenAddress;
  addresses(): ListenAddress[];
  /** Counters summed over the guest instances (and worker threads) of this loop. Worker
   *  threads (the default) publish them every 50 ms, so they may lag by that much; with
   *  workers: 0 they are read live. */
  stats(): LoopStats & Partial<TlsStats>;
  /** The same counters, with traps by cause and a histogram of slice durations, in the
   *  Prometheus text format (version 0.0.4), per worker thread (a `worker` label) when there
   *  are worker threads. What `--metrics` serves at /metrics. Read at call time, nothing
   *  is counted for it on the request path (docs/EMBEDDING.md). */
  metrics(): string;
  /** Stops accepting, lets open connections finish for up to graceMs, then closes them. A
   *  later call with a shorter graceMs shortens the wait. A worker thread whose guest does not
   *  let it finish is terminated 1 s after the grace period. */
  close(options?: CloseOptions): Promise<void>;
  /** Replaces the guest with `module` (what createLoop's `module` takes) without dropping a
   *  connection: resolves once the new instance serves (every worker's, one at a time). The
   *  listeners and idle connections move to it at once; connections in the middle of a request
   *  finish on the old instance first, for up to `drainMs`. Rejects with ERR_WASMLOOP_RELOAD,
   *  the old instance serving on, if the new module fails before anything moved (not a guest,
   *  its limits, a trap or the watchdog in wl_init); with workers, the roll stops there. */
  reload(module: ModuleSource): Promise<void>;
  /** Settles when the loop has closed: resolves after close(), rejects if the loop failed
   *  (for instance its restart budget was spent). */
  readonly done: Promise<void>;
}

/** What every loop of a guest is started with, on the calling thread or in a worker (the
 *  options that cross into a worker thread are only these, plus its shared buffers). */
export interface LoopConfig {
  module: WebAssembly.Module;
  /** Listening fds handed to the guest, as listener 0, 1, ... */
  fds: Fd[];
  addresses: ListenAddress[];
  limits: Record<string, number>;
  maxRestarts?: number;
  /** WASI arguments and environment. */
  args: string[];
  env: Record<string, string>;
}

/** What a loop needs to reload: the limits createLoop was given, and `drainMs`. */
export interface ReloadConfig {
  given: Limits;
  drainMs: number;
}

/** How long a replaced instance may finish its requests after a reload, by default. */
export const DEFAULT_DRAIN_MS = 30_000;

/** How long close() lets connections finish by default. */
export const DEFAULT_GRACE_MS = 5000;
