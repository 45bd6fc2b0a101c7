/**
 * One guest instance: its imports (the wasmloop hostcalls, validated here), its exports, and
 * the handle table that is the whole of what it can reach. A trap ends the instance; the loop
 * then calls `teardown()` and may create a fresh one over the same listeners.
 */
import { Errno, errnoName } from './errno.ts';
import { WasmloopError } from './errors.ts';
import type { Handoff } from './handoff.ts';
import { HandleTable, Kind } from './handles.ts';
import { salvage, type Handover, type Salvaged, type SalvageExports } from './salvage.ts';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP, EVENT_SIZE, type Kernel } from './kernel.ts';

/** Interest bits a guest may ask for (docs/ABI.md, watch). */
const ALLOWED_EVENTS = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;
/** recv_many/send_many (docs/ABI.md): bytes per I/O record, and the most records per call. */
const IO_RECORD = 16;
const IO_MANY_MAX = 4096;

export interface GuestExports extends Partial<SalvageExports> {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  wl_init(): number;
  wl_events_ptr(): number;
  wl_events_cap(): number;
  wl_dispatch(n: number, nowMs: number): number;
  wl_shutdown(): void;
  wl_stats_ptr(): number;
}

/** Counters a guest keeps in its memory (docs/ABI.md, wl_stats_ptr), in that order. */
export const STAT_NAMES = ['accepted', 'closed', 'open', 'requests', 'bytesIn', 'bytesOut', 'acceptErrors', 'protocolErrors', 'buffersInUse', 'timeouts'] as const;
export type GuestStats = Record<(typeof STAT_NAMES)[number], number>;

/** A guest trap: wasm `unreachable`, out-of-bounds access, stack overflow, `abort`, or a
 *  hostcall that threw. */
export class GuestTrap extends WasmloopError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_WASMLOOP_TRAP', message, options);
  }
}

export interface InstanceOptions {
  kernel: Kernel;
  epfd: number;
  /** Listener fds, granted to the guest as handles in this order. */
  listeners: readonly number[];
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
  /** Lists connections while they are between instances (host/handoff.ts). */
  handoff?: Handoff;
  /** The source of `env.seed` (the simulated kernel's PRNG, so that runs replay exactly). */
  seed?: () => number;
}

export class GuestInstance {
  readonly handles: HandleTable;
  readonly exports: GuestExports;
  readonly instance: WebAssembly.Instance;
  readonly eventsPtr: number;
  readonly eventsCap: number;
  private readonly statsPtr: number;
  private buffer = new ArrayBuffer(0); // see `memory`
  private words = new Int32Array(0); // `buffer` as i32s, for recv_many/send_many
  private readonly ioFds = new Int32Array(IO_MANY_MAX);
  private readonly listenerHandles: number[] = [];
  /** Input handed over from a trapped instance, by handle, until recv has returned it all;
   *  null while there is none (the recv hostcall's only extra cost). */
  private carried: Map<number, Uint8Array> | null = null;

  constructor(module: WebAssembly.Module, private readonly opts: InstanceOptions) {
    this.handles = new HandleTable(opts.registry);
    for (const fd of opts.listeners) this.listenerHandles.push(this.handles.add(fd, Kind.Listener));
    const imports = { ...opts.extraImports, wasmloop: this.hostcalls(), env: this.runtimeImports() };
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
      throw new WasmloopError('ERR_WASMLOOP_ABI', `guest event ring (${this.eventsCap} events at ${this.eventsPtr}) does not fit in its memory`);
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
    this.handles.forEach(Kind.Conn, (i) => {
      this.closeFd(i);
      closed++;
    });
    this.carried = null;
    this.releaseListeners();
    return closed;
  }

  /** After a trap: the connections that can be saved leave this instance (host/salvage.ts). */
  salvage(): Salvaged {
    const t = this.handles;
    const { kernel, epfd } = this.opts;
    return salvage({
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
    }, kernel);
  }

  /** Takes a connection saved from a trapped instance (wl_adopt); closes it if the guest
   *  cannot. May throw a trap (guest code runs). */
  adopt(h: Handover, nowMs: number): void {
    const { kernel } = this.opts;
    const t = this.handles;
    const handle = t.add(h.fd, Kind.Conn);
    this.opts.handoff?.drop(h.fd); // the table lists it now, or it is closed next
    if (handle < 0) { kernel.close(h.fd); return; }
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
      if (this.handles.isWatched(i)) kernel.epollCtl(epfd, EPOLL_CTL_DEL, this.handles.fdAt(i), 0, 0, 0);
      this.handles.remove(i);
    });
  }

  /** The `wasmloop` import module. Each hostcall validates its handle here (the kernel checks
   *  memory ranges again in C) and never throws for a bad argument. */
  private hostcalls(): Record<string, (...args: number[]) => number> {
    const { kernel, now } = this.opts;
    const wall = this.opts.wallClock ?? Date.now;
    const t = this.handles;
    const mem = () => this.memory; // never stale: see `memory`
    return {
      listener: (i) => this.listenerHandles[i] ?? -Errno.ENOENT,
      accept: (h) => {
        const fd = t.fd(h, Kind.Listener);
        if (fd < 0) return -Errno.EBADF;
        const c = kernel.accept(fd);
        if (c < 0) return c;
        const handle = t.add(c, Kind.Conn);
        if (handle < 0) kernel.close(c);
        return handle;
      },
      recv: (h, ptr, len) => {
        const fd = t.fd(h, Kind.Conn);
        if (fd < 0) return fd;
        if (this.carried !== null && this.carried.has(h)) return this.takeCarried(h, ptr >>> 0, len >>> 0);
        return kernel.recv(fd, mem(), ptr >>> 0, len >>> 0);
      },
      send: (h, ptr, len) => {
        const fd = t.fd(h, Kind.Conn);
        return fd < 0 ? fd : kernel.send(fd, mem(), ptr >>> 0, len >>> 0);
      },
      recv_many: (ptr, n, area, areaLen) => this.ioMany(ptr >>> 0, n, area >>> 0, areaLen >>> 0, false),
      send_many: (ptr, n) => this.ioMany(ptr >>> 0, n, 0, 0, true),
      watch: (h, events, lo, hi) => this.watch(h, events >>> 0, lo >>> 0, hi >>> 0),
      shutdown: (h, how) => {
        const fd = t.fd(h, Kind.Conn);
        if (fd < 0) return fd;
        return how === 0 || how === 1 || how === 2 ? kernel.shutdown(fd, how) : -Errno.EINVAL;
      },
      close: (h) => {
        const index = t.indexOf(h);
        if (index < 0) return -Errno.EBADF;
        if (t.kindAt(index) === Kind.Listener) return -Errno.EPERM;
        this.closeIndex(index, h);
        return 0;
      },
      now_ms: () => now(),
      wall_ms: () => wall(),
      limit: (ptr, len) => {
        const name = readUtf8(mem(), ptr >>> 0, len >>> 0);
        const value = name === null ? undefined : this.opts.limits?.[name];
        return value ?? -1;
      },
    };
  }

  private closeIndex(index: number, handle: number): void {
    this.closeFd(index);
    this.carried?.delete(handle);
  }

  private closeFd(index: number): void {
    const fd = this.handles.fdAt(index);
    this.handles.remove(index); // before close: a shared registry must never hold a closed fd
    this.opts.kernel.close(fd); // closing also leaves the epoll set
  }

  /** recv from input carried over from a trapped instance: the same contract as the kernel's
   *  recv (EINVAL for len 0, EFAULT out of memory). */
  private takeCarried(handle: number, ptr: number, len: number): number {
    const carried = this.carried!;
    const bytes = carried.get(handle)!;
    if (len === 0) return -Errno.EINVAL;
    const mem = this.memory;
    if (ptr + len > mem.byteLength) return -Errno.EFAULT;
    const n = Math.min(len, bytes.length);
    new Uint8Array(mem, ptr, n).set(bytes.subarray(0, n));
    if (n < bytes.length) carried.set(handle, bytes.subarray(n));
    else carried.delete(handle);
    if (carried.size === 0) this.carried = null;
    return n;
  }

  /** recv_many/send_many: every record's handle is checked here, and its fd (or errno) goes to
   *  the kernel, which does all the records in one call. */
  private ioMany(ptr: number, n: number, area: number, areaLen: number, send: boolean): number {
    if (n < 0 || n > IO_MANY_MAX || (ptr & 3) !== 0) return -Errno.EINVAL;
    const mem = this.memory;
    if (ptr + n * IO_RECORD > mem.byteLength || area + areaLen > mem.byteLength) return -Errno.EFAULT;
    if (this.words.buffer !== mem) this.words = new Int32Array(mem);
    const words = this.words;
    const fds = this.ioFds;
    for (let i = 0, w = ptr >>> 2; i < n; i++, w += 4) fds[i] = this.handles.fd(words[w]!, Kind.Conn);
    const { kernel } = this.opts;
    return send ? kernel.sendMany(fds, mem, ptr, n) : kernel.recvMany(fds, mem, ptr, n, area, areaLen);
  }

  private watch(h: number, events: number, lo: number, hi: number): number {
    const t = this.handles;
    const index = t.indexOf(h);
    if (index < 0) return -Errno.EBADF;
    if ((events & ~ALLOWED_EVENTS) !== 0) return -Errno.EINVAL;
    const { kernel, epfd } = this.opts;
    const fd = t.fdAt(index);
    if (events === 0) {
      if (!t.isWatched(index)) return 0;
      t.setWatched(index, false);
      return kernel.epollCtl(epfd, EPOLL_CTL_DEL, fd, 0, 0, 0);
    }
    const rc = kernel.epollCtl(epfd, t.isWatched(index) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, events, lo, hi);
    if (rc === 0) t.setWatched(index, true);
    return rc;
  }

  /** The `env` module AssemblyScript's runtime imports. */
  private runtimeImports(): Record<string, (...args: number[]) => number | void> {
    const text = (ptr: number) => readAsString(this.exports.memory.buffer, ptr);
    return {
      abort: (msg, file, line, col) => {
        throw new GuestTrap(`abort: ${text(msg) || 'no message'} at ${text(file) || '?'}:${line}:${col}`);
      },
      trace: (msg, n, ...args) => {
        const line = `trace: ${text(msg)}${n > 0 ? ' ' + args.slice(0, n).join(', ') : ''}`;
        (this.opts.trace ?? ((s: string) => process.stderr.write(s + '\n')))(line);
      },
      seed: () => (this.opts.seed ? this.opts.seed() : Date.now() * Math.random()),
    };
  }
}

/** Decodes UTF-8 bytes [ptr, ptr+len) of guest memory; null when out of range or over 256 bytes. */
function readUtf8(buffer: ArrayBuffer, ptr: number, len: number): string | null {
  if (len > 256 || ptr + len > buffer.byteLength) return null;
  return Buffer.from(buffer, ptr, len).toString('utf8');
}

/** Decodes an AssemblyScript string (UTF-16LE, byte length in the u32 before it); '' when the
 *  pointer or length does not fit in memory. */
export function readAsString(buffer: ArrayBuffer, ptr: number): string {
  ptr >>>= 0;
  if (ptr < 4 || ptr > buffer.byteLength) return '';
  const bytes = new DataView(buffer).getUint32(ptr - 4, true);
  if (ptr + bytes > buffer.byteLength || bytes > 4096) return '';
  return Buffer.from(buffer, ptr, bytes & ~1).toString('utf16le');
}
