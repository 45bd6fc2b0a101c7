/**
 * One guest instance: its imports (the wasmloop hostcalls, validated here), its exports, and
 * the handle table that is the whole of what it can reach. A trap ends the instance; the loop
 * then calls `teardown()` and may create a fresh one over the same listeners.
 */
import type { Hostcall } from '../abi.ts';
import { Errno, errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import { GuestTrap, readUtf8, runtimeImports } from './env.ts';
import type { Handoff } from '../driver/handoff.ts';
import { EXHAUSTED, HandleTable, Kind, type Handle } from './handles.ts';
import { IoBatch } from './io-batch.ts';
import { ListenerGate } from './listener-gate.ts';
import { connectionLimit, declaredDefaults } from '../limits.ts';
import type { PeerGuard } from './peer-guard.ts';
import { takeCarried } from './carried.ts';
import { ALLOWED_EVENTS, STAT_NAMES, type GuestExports, type GuestStats } from './exports.ts';
import { salvage, type Handover, type Salvaged } from './salvage.ts';
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EVENT_SIZE,
  MAX_EVENTS,
  type Fd,
  type Kernel,
} from '../kernel/contract.ts';

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
  /** Tests only: fewer handle generation bits, to reach exhaustion quickly (host/guest/handles.ts). */
  generationBits?: number;
}

export class GuestInstance {
  readonly handles: HandleTable;
  readonly exports: GuestExports;
  readonly instance: WebAssembly.Instance;
  readonly eventsPtr: number;
  readonly eventsCap: number;
  private readonly statsPtr: number;
  private buffer = new ArrayBuffer(0); // see `memory`
  private readonly io: IoBatch;
  private readonly listenerHandles: Handle[] = [];
  private readonly maxConnections: number;
  private readonly gate: ListenerGate;
  /** Input handed over from a trapped instance, by handle, until recv has returned it all;
   *  null while there is none (the recv hostcall's only extra cost). */
  private carried: Map<number, Uint8Array> | null = null;

  constructor(
    module: WebAssembly.Module,
    private readonly opts: InstanceOptions,
  ) {
    this.maxConnections = connectionLimit(opts.limits ?? {});
    this.handles = new HandleTable({
      maxConnections: this.maxConnections,
      listeners: opts.listeners.length,
      registry: opts.registry,
      generationBits: opts.generationBits,
    });
    this.io = new IoBatch(this.handles, opts.kernel);
    for (const fd of opts.listeners) this.listenerHandles.push(this.handles.add(fd, Kind.Listener));
    this.gate = new ListenerGate(
      this.handles,
      opts.kernel,
      opts.epfd,
      this.listenerHandles.map((h) => this.handles.indexOf(h)),
    );
    const imports = {
      ...opts.extraImports,
      wasmloop: this.hostcalls(module),
      env: runtimeImports(() => this.exports.memory.buffer, opts),
    };
    this.instance = new WebAssembly.Instance(module, imports);
    this.exports = this.instance.exports as unknown as GuestExports;
    opts.onInstantiate?.(this.instance);
    this.exports._initialize?.();
    const rc = this.exports.wl_init();
    if (rc < 0) throw new WasmloopError('ERR_WASMLOOP_INIT', `wl_init failed: ${errnoName(rc)}`);
    this.eventsPtr = this.exports.wl_events_ptr() >>> 0;
    this.eventsCap = this.exports.wl_events_cap() | 0;
    this.statsPtr = this.exports.wl_stats_ptr() >>> 0;
    const size = this.exports.memory.buffer.byteLength;
    if (this.eventsCap < 1 || this.eventsPtr + this.eventsCap * EVENT_SIZE > size) {
      throw new WasmloopError(
        'ERR_WASMLOOP_ABI',
        `guest event ring (${this.eventsCap} events at ${this.eventsPtr}) does not fit in its memory`,
      );
    }
    if (this.eventsCap > MAX_EVENTS) {
      throw new WasmloopError(
        'ERR_WASMLOOP_ABI',
        `guest event ring holds ${this.eventsCap} events; this host waits for at most ${MAX_EVENTS} at a time`,
      );
    }
    if (this.statsPtr + STAT_NAMES.length * 8 > size) {
      throw new WasmloopError('ERR_WASMLOOP_ABI', 'guest stats region does not fit in its memory');
    }
  }

  /** The guest's current memory buffer. The getter on WebAssembly.Memory costs a runtime call,
   *  so the buffer is kept and re-read only once it is detached: memory.grow detaches the old
   *  buffer (its byteLength becomes 0), so a stale one is never used. */
  get memory(): ArrayBuffer {
    if (this.buffer.byteLength === 0) this.buffer = this.exports.memory.buffer;
    return this.buffer;
  }

  /** The guest's counters, read straight from its memory. */
  stats(): GuestStats {
    const view = new DataView(this.memory);
    const out = {} as GuestStats;
    STAT_NAMES.forEach((name, i) => {
      out[name] = Number(view.getBigUint64(this.statsPtr + i * 8, true));
    });
    return out;
  }

  /** Closes every connection the instance holds and releases its listeners (which stay open:
   *  they belong to the loop's owner). Returns how many connections it closed. */
  teardown(): number {
    let closed = 0;
    const t = this.handles;
    t.forEach(Kind.Conn, (i) => {
      this.closeFd(i);
      closed++;
    });
    if (t.pendingFd >= 0) {
      // an accept whose recording a throw interrupted
      t.unpublish(t.spare); // first, as in closeFd
      this.opts.kernel.close(t.pendingFd as Fd);
      t.pendingFd = -1;
    }
    this.carried = null;
    this.releaseListeners();
    return closed;
  }

  /** After a trap: the connections that can be saved leave this instance (host/guest/salvage.ts). */
  salvage(): Salvaged {
    const t = this.handles;
    const { kernel, epfd } = this.opts;
    return salvage(
      {
        exports: this.exports,
        memory: this.memory,
        connFd: (h) => t.fd(h, Kind.Conn),
        release: (h) => {
          const index = t.indexOf(h);
          if (t.isWatched(index)) kernel.epollCtl(epfd, EPOLL_CTL_DEL, t.fdAt(index), 0, 0, 0);
          this.opts.handoff?.hold(t.fdAt(index)); // listed before it leaves the table
          t.remove(index);
          const unread = this.carried?.get(h) ?? null;
          this.carried?.delete(h);
          return unread;
        },
        discard: (fd) => {
          this.opts.handoff?.drop(fd);
          kernel.close(fd);
        },
      },
      kernel,
    );
  }

  /** Takes a connection saved from a trapped instance (wl_adopt); closes it if the guest
   *  cannot. May throw a trap (guest code runs). */
  adopt(h: Handover, nowMs: number): void {
    const { kernel } = this.opts;
    const t = this.handles;
    const handle = t.add(h.fd, Kind.Conn);
    this.opts.handoff?.drop(h.fd); // the table lists it now, or it is closed next
    if (handle < 0) {
      kernel.close(h.fd);
      return;
    }
    if (h.input !== null) (this.carried ??= new Map()).set(handle, h.input);
    const fn = this.exports.wl_adopt;
    const rc = typeof fn === 'function' ? fn(handle, h.linger ? 1 : 0, nowMs) : -1;
    const index = t.indexOf(handle);
    if (rc < 0 && index >= 0) this.closeIndex(index, handle);
  }

  /** Takes the listeners away from the guest: they leave the epoll set and their handles become
   *  -EBADF, so the owner may close the fds without the guest ever reaching a reused number. */
  releaseListeners(): void {
    const { kernel, epfd } = this.opts;
    this.handles.forEach(Kind.Listener, (i) => {
      if (this.handles.isWatched(i))
        kernel.epollCtl(epfd, EPOLL_CTL_DEL, this.handles.fdAt(i), 0, 0, 0);
      this.handles.remove(i);
    });
  }

  /** The `wasmloop` import module, one entry per HOSTCALLS name (host/abi.ts; a missing or extra
   *  one does not compile). Each validates its handle here (the kernel checks memory ranges
   *  again in C) and never throws for a bad argument. */
  private hostcalls(module: WebAssembly.Module): Record<Hostcall, (...args: number[]) => number> {
    const { kernel, now } = this.opts;
    const wall = this.opts.wallClock ?? Date.now;
    const t = this.handles;
    const mem = () => this.memory; // never stale: see `memory`
    // A Map, not the limits object: a name like `constructor` must not find Object.prototype's.
    // The module's declared defaults under the given values (read from its custom section
    // once per instance, not per call).
    const given = { ...declaredDefaults(module), ...this.opts.limits };
    const limits = new Map(Object.entries(given).filter(([, v]) => typeof v === 'number'));
    // Every argument is a number the guest chose: a handle becomes a Handle here, then the
    // table checks it (h as Handle is a claim the compiler cannot make for us).
    return {
      listener: (i) => this.listenerHandles[i] ?? -Errno.ENOENT,
      accept: (h) => {
        const fd = t.fd(h as Handle, Kind.Listener);
        if (fd < 0) return -Errno.EBADF;
        const ready = t.prepareAccept(); // the index is set aside before accept(2)
        if (ready !== 0) return this.refuseAccept(ready);
        const c = kernel.accept(fd);
        if (c < 0) return c;
        // From accept(2) to here, plain stores only: a call may throw (RangeError near the stack
        // limit) and the fd must already be where teardown and the worker pool find it.
        t.pendingFd = c;
        if (t.registry !== undefined) t.registry[t.spare] = c;
        const handle = t.commitAccept();
        return this.opts.peerGuard?.blocking === true ? this.screenPeer(handle) : handle;
      },
      recv: (h, ptr, len) => {
        const fd = t.fd(h as Handle, Kind.Conn);
        if (fd < 0) return fd;
        if (this.carried !== null && this.carried.has(h)) {
          const n = takeCarried(this.carried, h, this.memory, ptr >>> 0, len >>> 0);
          if (this.carried.size === 0) this.carried = null;
          return n;
        }
        return kernel.recv(fd, mem(), ptr >>> 0, len >>> 0);
      },
      send: (h, ptr, len) => {
        const fd = t.fd(h as Handle, Kind.Conn);
        return fd < 0 ? fd : kernel.send(fd, mem(), ptr >>> 0, len >>> 0);
      },
      recv_many: (ptr, n, area, areaLen) =>
        this.io.run(mem(), ptr >>> 0, n, area >>> 0, areaLen >>> 0, false, this.carried),
      send_many: (ptr, n) => this.io.run(mem(), ptr >>> 0, n, 0, 0, true),
      watch: (h, events, lo, hi) => this.watch(h as Handle, events >>> 0, lo >>> 0, hi >>> 0),
      shutdown: (h, how) => {
        const fd = t.fd(h as Handle, Kind.Conn);
        if (fd < 0) return fd;
        return how === 0 || how === 1 || how === 2 ? kernel.shutdown(fd, how) : -Errno.EINVAL;
      },
      close: (h) => {
        const index = t.indexOf(h as Handle);
        if (index < 0) return -Errno.EBADF;
        if (t.kindAt(index) === Kind.Listener) return -Errno.EPERM;
        this.closeIndex(index, h as Handle);
        return 0;
      },
      now_ms: () => now(),
      wall_ms: () => wall(),
      limit: (ptr, len) => {
        const name = readUtf8(mem(), ptr >>> 0, len >>> 0);
        return (name === null ? undefined : limits.get(name)) ?? -1;
      },
    };
  }

  private closeIndex(index: number, handle: Handle): void {
    this.closeFd(index);
    this.carried?.delete(handle);
    this.gate.resume(this.maxConnections);
  }

  /** Closes an open handle's fd. A throw at any point leaves the fd either open and in the
   *  table (teardown closes it) or closed and out of it, never closed and still recorded. */
  private closeFd(index: number): void {
    const t = this.handles;
    const fd = t.fdAt(index);
    t.unpublish(index); // first: a shared registry must never hold an fd that may be closed
    if (fd >= 0) this.opts.kernel.close(fd); // closing also leaves the epoll set
    t.fds[index] = -1; // a plain store, no call, right after close(2)
    t.remove(index);
  }

  /** accept past max-connections (the listeners pause until a connection closes), or with
   *  every handle of this instance used up (a trap: the loop starts a fresh instance). */
  /** A connection of a peer the trap budget blocks is closed at once (host/guest/peer-guard.ts);
   *  the guest's accept gets -ECONNABORTED and tries the next one. */
  private screenPeer(handle: Handle): number {
    const index = this.handles.indexOf(handle);
    if (!this.opts.peerGuard!.refuses(this.handles.fdAt(index))) return handle;
    this.closeIndex(index, handle);
    return -Errno.ECONNABORTED;
  }

  private refuseAccept(reason: number): number {
    if (reason === EXHAUSTED)
      throw new GuestTrap(
        'handle space exhausted: no handle can be issued without reusing one; replacing the instance',
      );
    this.gate.pause();
    return -Errno.EAGAIN;
  }

  private watch(h: Handle, events: number, lo: number, hi: number): number {
    const t = this.handles;
    const index = t.indexOf(h);
    if (index < 0) return -Errno.EBADF;
    if ((events & ~ALLOWED_EVENTS) !== 0) return -Errno.EINVAL;
    if (t.kindAt(index) === Kind.Listener && this.gate.holds(index, events, lo, hi)) return 0;
    const { kernel, epfd } = this.opts;
    const fd = t.fdAt(index);
    // `watched` may say yes for an fd that is not in the set (a DEL then finds nothing, which
    // is harmless), never no for one that is: set before ADD, cleared by a plain store after DEL.
    if (events === 0) {
      if (!t.isWatched(index)) return 0;
      const rc = kernel.epollCtl(epfd, EPOLL_CTL_DEL, fd, 0, 0, 0);
      t.watched[index] = 0;
      return rc;
    }
    const op = t.isWatched(index) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    t.setWatched(index, true);
    const rc = kernel.epollCtl(epfd, op, fd, events, lo, hi);
    if (rc !== 0 && op === EPOLL_CTL_ADD) t.setWatched(index, false);
    return rc;
  }
}
