/**
 * One guest instance: its imports (the wasmloop hostcalls, host/guest/hostcalls.ts), its
 * exports, and the handle table that is the whole of what it can reach. A trap ends the
 * instance; the loop then calls `teardown()` and may create a fresh one over the same listeners.
 */
import { Errno, errnoName } from '../errno.ts';
import { WasmloopError } from '../errors.ts';
import { GuestTrap, runtimeImports } from './env.ts';
import { EXHAUSTED, HandleTable, Kind, type Handle } from './handles.ts';
import { hostcalls, type HostcallTarget } from './hostcalls.ts';
import { IoBatch } from './io-batch.ts';
import { ListenerGate } from './listener-gate.ts';
import { connectionLimit } from '../limits.ts';
import {
  ALLOWED_EVENTS,
  guestLayout,
  readStats,
  type GuestExports,
  type GuestStats,
} from './exports.ts';
import type { InstanceOptions } from './instance-options.ts';
import { salvage, type Handover, type Salvaged } from './salvage.ts';
import { RETIRED_TAG_BASE } from './retiring.ts';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, type Fd } from '../kernel/contract.ts';

/** The members HostcallTarget lists are for host/guest/hostcalls.ts only. */
export class GuestInstance implements HostcallTarget {
  readonly handles: HandleTable;
  readonly exports: GuestExports;
  readonly instance: WebAssembly.Instance;
  readonly eventsPtr: number;
  readonly eventsCap: number;
  private readonly statsPtr: number;
  private buffer = new ArrayBuffer(0); // see `memory`
  readonly io: IoBatch;
  readonly listenerHandles: Handle[] = [];
  private readonly maxConnections: number;
  /** Holds the listeners to max-connections; a reload suspends them (host/guest/reload.ts). */
  readonly gate: ListenerGate;
  /** Input handed over from a trapped instance, by handle, until recv has returned it all;
   *  null while there is none (the recv hostcall's only extra cost). */
  carried: Map<number, Uint8Array> | null = null;
  /** A trap a hostcall threw, kept because the guest may have caught it (wasm exception
   *  handling catches host errors): the loop ends the instance after the call anyway. */
  fatal: GuestTrap | null = null;
  /** `watch`'s tokens (host/guest/retiring.ts): 0 as given; -1 refuses the retiring range; a
   *  retiring instance's tag (> 0) replaces every token with (index, tag). */
  tokenRule = 0;

  constructor(
    module: WebAssembly.Module,
    private readonly opts: InstanceOptions,
  ) {
    this.maxConnections = connectionLimit(opts.limits ?? {});
    if (opts.reserveTokens) this.tokenRule = -1;
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
      wasmloop: hostcalls(this, module, opts),
      env: runtimeImports(() => this.exports.memory.buffer, opts),
    };
    this.instance = new WebAssembly.Instance(module, imports);
    this.exports = this.instance.exports as unknown as GuestExports;
    opts.onInstantiate?.(this.instance);
    this.exports._initialize?.();
    const rc = this.exports.wl_init();
    if (rc < 0) throw new WasmloopError('ERR_WASMLOOP_INIT', `wl_init failed: ${errnoName(rc)}`);
    const layout = guestLayout(this.exports);
    this.eventsPtr = layout.eventsPtr;
    this.eventsCap = layout.eventsCap;
    this.statsPtr = layout.statsPtr;
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
    return readStats(this.memory, this.statsPtr);
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

  /** After a trap, or `planned` for a reload: the savable connections leave (salvage.ts). */
  salvage(planned = false): Salvaged {
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
      planned,
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

  /** Other instances of the loop now hold `n` connections (max-connections counts them). */
  setOthers(n: number): void {
    this.handles.others = n;
    this.gate.resume();
  }

  /** The instance retires (a reload replaced it): every connection it watches is registered
   *  again under (index, tag), so that its events can be told from the new instance's. */
  retire(tag: number): void {
    const { kernel, epfd } = this.opts;
    const t = this.handles;
    this.releaseListeners();
    this.tokenRule = tag;
    t.forEach(Kind.Conn, (i) => {
      if (t.isWatched(i))
        kernel.epollCtl(epfd, EPOLL_CTL_MOD, t.fdAt(i), t.interest[3 * i]!, i, tag);
    });
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

  /** Closes an open handle (the `close` hostcall, or a refused peer): accepts resume if
   *  max-connections had paused them. */
  closeIndex(index: number, handle: Handle): void {
    this.closeFd(index);
    this.carried?.delete(handle);
    this.gate.resume();
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

  /** A connection of a peer the trap budget blocks is closed at once (host/guest/peer-guard.ts);
   *  the guest's accept gets -ECONNABORTED and tries the next one. */
  screenPeer(handle: Handle): number {
    const index = this.handles.indexOf(handle);
    if (!this.opts.peerGuard!.refuses(this.handles.fdAt(index))) return handle;
    this.closeIndex(index, handle);
    return -Errno.ECONNABORTED;
  }

  /** accept past max-connections (the listeners pause until a connection closes), or with
   *  every handle of this instance used up (a trap: the loop starts a fresh instance). */
  refuseAccept(reason: number): number {
    if (reason === EXHAUSTED)
      throw (this.fatal = new GuestTrap(
        'handle space exhausted: no handle can be issued without reusing one; replacing the instance',
      ));
    this.gate.pause();
    return -Errno.EAGAIN;
  }

  watch(h: Handle, events: number, lo: number, hi: number): number {
    const t = this.handles;
    const index = t.indexOf(h);
    if (index < 0) return -Errno.EBADF;
    if ((events & ~ALLOWED_EVENTS) !== 0) return -Errno.EINVAL;
    if (t.kindAt(index) === Kind.Listener && this.gate.holds(index, events, lo, hi)) return 0;
    t.interest[3 * index] = events;
    t.interest[3 * index + 1] = lo;
    t.interest[3 * index + 2] = hi;
    if (this.tokenRule !== 0) {
      if (this.tokenRule > 0) [lo, hi] = [index, this.tokenRule];
      else if (hi >>> 0 >= RETIRED_TAG_BASE) return -Errno.EINVAL;
    }
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
