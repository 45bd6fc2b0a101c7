/**
 * The embedding API: `createLoop()` serves a wasmloop guest from inside a Node program.
 * The loop runs on Node's own event loop (the shim registers the epoll fd with libuv), so
 * timers, other servers and clients in the same process keep running.
 */
import { formatAddress, resolveHost, checkPort, type ListenAddress } from './address.ts';
import { errnoName } from './errno.ts';
import { WasmloopError } from './errors.ts';
import type { GuestTrap } from './instance.ts';
import { Loop, type LoopStats } from './loop.ts';
import { checkGuest, loadModule, usesWasi, type ModuleSource } from './module.ts';
import { loadNative, type NativeKernel } from './native.ts';
import { checkLimits, type Limits } from './limits.ts';
import { initWasi } from './wasi.ts';

export { WasmloopError } from './errors.ts';
export { GuestTrap } from './instance.ts';
export type { LoopStats } from './loop.ts';
export type { ListenAddress } from './address.ts';
export { KNOWN_LIMITS, type Limits } from './limits.ts';

/** Backlog of each listening socket: the kernel's usual cap (somaxconn). */
const DEFAULT_BACKLOG = 4096;
/** How long close() lets connections finish by default. */
const DEFAULT_GRACE_MS = 5000;

export interface ListenOptions {
  host?: string;
  port: number;
  backlog?: number;
  reusePort?: boolean;
}

export interface CreateLoopOptions {
  /** A path to a .wasm file, its bytes, or a compiled module. */
  module: ModuleSource;
  /** Where to listen; each becomes listener 0, 1, ... of the guest. Host defaults to 127.0.0.1. */
  listen: ListenOptions[];
  /** WASI arguments and environment (only for guests that import WASI). */
  args?: string[];
  env?: Record<string, string>;
  /** Named limits passed to the guest, e.g. { 'max-connections': 1000 } (see KNOWN_LIMITS). */
  limits?: Limits;
  /** Traps in a row before the loop gives up (default 5). */
  maxRestarts?: number;
  /** Aborting closes the loop gracefully. */
  signal?: AbortSignal;
  /** Called for every guest trap; by default it is written to stderr. */
  onTrap?: (err: GuestTrap, restarting: boolean) => void;
}

export interface CloseOptions {
  /** How long in-flight connections may take to finish before they are closed (default 5000). */
  graceMs?: number;
}

export interface WasmLoop {
  /** The first listener's address (with the real port when port 0 was asked for). */
  address(): ListenAddress;
  addresses(): ListenAddress[];
  stats(): LoopStats;
  /** Stops accepting, lets open connections finish for up to graceMs, then closes them. */
  close(options?: CloseOptions): Promise<void>;
  /** Settles when the loop has closed: resolves after close(), rejects if the loop failed
   *  (for instance its restart budget was spent). */
  readonly done: Promise<void>;
}

/** Starts serving `module` on the given addresses. Errors are WasmloopError with a `code`. */
export async function createLoop(options: CreateLoopOptions): Promise<WasmLoop> {
  const native = loadNative();
  const limits = checkLimits({ ...options.limits });
  const module = await loadModule(options.module);
  checkGuest(module);
  if (usesWasi(module)) await initWasi();
  if (!Array.isArray(options.listen) || options.listen.length === 0) {
    throw new WasmloopError('ERR_WASMLOOP_ADDRESS', 'createLoop needs at least one listen address');
  }
  const { fds, addresses } = await openListeners(native, options.listen);
  return new NativeLoop(native, module, fds, addresses, { ...options, limits });
}

async function openListeners(native: NativeKernel, list: ListenOptions[]) {
  const fds: number[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const l of list) {
      checkPort(l.port, String(l.port));
      const host = await resolveHost(l.host ?? '127.0.0.1');
      const fd = native.listen(host, l.port, l.backlog ?? DEFAULT_BACKLOG, l.reusePort ?? false);
      if (fd < 0) {
        throw new WasmloopError('ERR_WASMLOOP_LISTEN', `cannot listen on ${formatAddress({ host, port: l.port })}: ${errnoName(fd)}`);
      }
      fds.push(fd);
      const addr = native.localAddress(fd);
      addresses.push(typeof addr === 'number' ? { host, port: l.port } : { host: addr.host, port: addr.port });
    }
  } catch (err) {
    for (const fd of fds) native.close(fd);
    throw err;
  }
  return { fds, addresses };
}

/** A Loop driven by libuv: the epoll fd is watched with uv_poll, deadlines with a Node timer. */
class NativeLoop implements WasmLoop {
  readonly done: Promise<void>;
  private readonly loop: Loop;
  private poll: object | null = null;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private graceTimer: NodeJS.Timeout | undefined;
  private listenersOpen = true;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly native: NativeKernel,
    module: WebAssembly.Module,
    private readonly fds: number[],
    private readonly addrs: ListenAddress[],
    options: CreateLoopOptions,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // a caller that never looks at `done` must not crash the process
    try {
      this.loop = new Loop({
        module,
        kernel: native,
        listeners: fds,
        maxRestarts: options.maxRestarts,
        limits: options.limits ?? {},
        wasi: { args: options.args ?? [], env: options.env ?? {} },
        onTrap: options.onTrap ?? defaultOnTrap,
        onDeadline: (ms) => this.arm(ms),
        onStopping: () => this.stopPolling(),
        onClosed: (err) => this.cleanup(err),
      });
    } catch (err) {
      this.closeListeners();
      throw err;
    }
    const poll = native.pollStart(this.loop.epfd, () => this.loop.tick());
    if (typeof poll === 'number') {
      this.loop.finish();
      throw new WasmloopError('ERR_WASMLOOP_EPOLL', `cannot watch the epoll fd with libuv: ${errnoName(poll)}`);
    }
    this.poll = poll;
    this.loop.tick();
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  address(): ListenAddress {
    return { ...this.addrs[0]! };
  }

  addresses(): ListenAddress[] {
    return this.addrs.map((a) => ({ ...a }));
  }

  stats(): LoopStats {
    return this.loop.stats();
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (!this.loop.closed && this.graceTimer === undefined) {
      this.loop.drain();
      this.closeListeners();
      if (!this.loop.closed) {
        this.graceTimer = setTimeout(() => this.loop.finish(), options.graceMs ?? DEFAULT_GRACE_MS);
      }
    }
    return this.done.catch(() => {});
  }

  /** Arms the deadline timer unless one at least as early is already armed. */
  private arm(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.loop.tick(true);
    }, ms);
  }

  private closeListeners(): void {
    if (!this.listenersOpen) return;
    this.listenersOpen = false;
    for (const fd of this.fds) this.native.close(fd);
  }

  private stopPolling(): void {
    if (this.poll !== null) this.native.pollStop(this.poll);
    this.poll = null;
  }

  private cleanup(err?: WasmloopError): void {
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    this.closeListeners();
    if (err) this.settle.reject(err);
    else this.settle.resolve();
  }
}

function defaultOnTrap(err: GuestTrap, restarting: boolean): void {
  process.stderr.write(`wasmloop: ${err.message}${restarting ? ' (restarting the guest)' : ''}\n`);
}
