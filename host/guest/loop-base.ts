/**
 * What a Loop (host/guest/loop.ts) is made of besides its tick: its epoll fd, the serving
 * instance and what it was started from, the counters, the trap budget per peer and the
 * recovery after a trap, and how an instance is started. Loop extends it; nothing else does.
 */
import { performance } from 'node:perf_hooks'; // the global one is a getter, paid on every read
import { errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import type { Fd } from '../kernel/contract.ts';
import type { GuestInstance } from './instance.ts';
import { LoopCounters, RetiredCounters } from './loop-metrics.ts';
import type { LoopOptions } from './loop-options.ts';
import { peerGuardFor, type PeerGuard } from './peer-guard.ts';
import { TrapRecovery } from './recovery.ts';
import { startInstance } from './spawn.ts';
import type { WasiBinding } from './wasi.ts';

export abstract class LoopBase {
  readonly epfd: Fd;
  protected guest: GuestInstance | null = null;
  protected wasi: WasiBinding | null = null;
  /** What a restart instantiates: the module of the last reload, or the first, and the
   *  limits its instances get. */
  protected module: WebAssembly.Module;
  protected limits: Readonly<Record<string, number>>;
  /** The serving instance's part of the handle registry (instances overlap in a reload). */
  protected part = 0;
  protected readonly now: () => number;
  /** Counters of the instances no longer running, and restarts. */
  protected readonly retired = new RetiredCounters();
  protected draining = false;
  protected state: 'running' | 'restarting' | 'closed' = 'running';
  protected deadlineAt = -1;
  /** The trap budget per peer; it outlives the instances. */
  protected readonly guard: PeerGuard;
  /** Connections saved from a trap and the restart budget (host/guest/recovery.ts). */
  protected readonly recovery: TrapRecovery;
  /** Traps by cause and slice durations; a driver's clock reading after a dispatch ends the
   *  slice it began (`counters.endSlice`). */
  readonly counters = new LoopCounters();

  constructor(protected readonly opts: LoopOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.module = opts.module;
    this.limits = opts.limits ?? {};
    this.guard = peerGuardFor(opts.limits ?? {}, opts.kernel, this.now);
    this.recovery = new TrapRecovery(opts, this.guard, this.now);
    const epfd = opts.kernel.epollCreate();
    if (epfd < 0)
      throw new WasmloopError('ERR_WASMLOOP_EPOLL', `epoll_create1 failed: ${errnoName(epfd)}`);
    this.epfd = epfd;
    if (opts.registry) opts.registry[0] = epfd;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** The current guest instance (tests use it to reach test-only exports). */
  get instance(): GuestInstance | null {
    return this.guest;
  }

  /** Runs guest code off the hot path where a watchdog must see it (instantiation, salvage);
   *  exceptions pass through. */
  protected busy<T>(fn: () => T): T {
    this.opts.onBusy?.(true);
    try {
      return fn();
    } finally {
      this.opts.onBusy?.(false);
    }
  }

  /** A new instance of `module` under `limits` in registry part `part`; `reserveTokens` while
   *  instances retire (host/guest/retiring.ts). `wasi` is set to its WASI binding once it has started. */
  protected instantiate(
    module = this.module,
    part = this.part,
    reserveTokens = false,
    limits = this.limits,
  ): GuestInstance {
    const acceptErrors = this.counters.acceptErrors;
    const at = {
      epfd: this.epfd,
      now: this.now,
      guard: this.guard,
      acceptErrors,
      part,
      reserveTokens,
      limits,
    };
    // wl_init and the start function are guest code too
    const { instance, wasi } = this.busy(() => startInstance(module, this.opts, at));
    this.wasi = wasi;
    return instance;
  }
}
