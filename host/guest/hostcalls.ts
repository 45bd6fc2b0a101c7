/**
 * The `wasmloop` import module of one guest instance (host/guest/instance.ts), one entry per
 * HOSTCALLS name (host/abi.ts; a missing or extra one does not compile). Each validates its
 * handle here (the kernel checks memory ranges again in C) and never throws for a bad argument.
 *
 * Built once per instance: every entry is a closure over the instance and its kernel made
 * here, so a call costs no allocation and no lookup beyond its own checks.
 */
import type { Hostcall } from '../abi.ts';
import { Errno } from '../errno.ts';
import { declaredDefaults } from '../limits.ts';
import { readUtf8 } from './env.ts';
import { Kind, type Handle, type HandleTable } from './handles.ts';
import type { InstanceOptions } from './instance-options.ts';
import type { IoBatch } from './io-batch.ts';
import { takeCarried } from './carried.ts';
import { countAcceptError } from './loop-metrics.ts';

type Hostcalls = Record<Hostcall, (...args: number[]) => number>;

/** What the hostcalls reach of their instance. */
export interface HostcallTarget {
  readonly handles: HandleTable;
  /** The guest's current memory buffer (never stale). */
  readonly memory: ArrayBuffer;
  readonly io: IoBatch;
  readonly listenerHandles: readonly Handle[];
  /** Input handed over from a trapped instance, by handle; null while there is none. */
  carried: Map<number, Uint8Array> | null;
  /** A new connection of a peer the trap budget blocks is closed: -ECONNABORTED, else `handle`. */
  screenPeer(handle: Handle): number;
  /** accept's answer when prepareAccept() refused (host/guest/handles.ts). */
  refuseAccept(reason: number): number;
  watch(h: Handle, events: number, lo: number, hi: number): number;
  closeIndex(index: number, handle: Handle): void;
}

// Every argument is a number the guest chose: a handle becomes a Handle here, then the table
// checks it (h as Handle is a claim the compiler cannot make for us).
export function hostcalls(
  g: HostcallTarget,
  module: WebAssembly.Module,
  opts: InstanceOptions,
): Hostcalls {
  return {
    ...handleCalls(g, opts),
    ...ioCalls(g, opts),
    ...clockAndLimitCalls(g, module, opts),
    ...tlsCalls(g, opts),
  };
}

/** Handles: the listeners, accepting, interest, closing. */
function handleCalls(
  g: HostcallTarget,
  { kernel, peerGuard, acceptErrors }: InstanceOptions,
): Pick<Hostcalls, 'listener' | 'accept' | 'watch' | 'close'> {
  const t = g.handles;
  return {
    listener: (i) => g.listenerHandles[i] ?? -Errno.ENOENT,
    accept: (h) => {
      const fd = t.fd(h as Handle, Kind.Listener);
      if (fd < 0) return -Errno.EBADF;
      const ready = t.prepareAccept(); // the index is set aside before accept(2)
      if (ready !== 0) return g.refuseAccept(ready);
      const c = kernel.accept(fd);
      if (c < 0) {
        if (acceptErrors !== undefined) countAcceptError(acceptErrors, c);
        return c;
      }
      // From accept(2) to here, plain stores only: a call may throw (RangeError near the stack
      // limit) and the fd must already be where teardown and the worker pool find it.
      t.pendingFd = c;
      if (t.registry !== undefined) t.registry[t.spare] = c;
      const handle = t.commitAccept();
      return peerGuard?.blocking === true ? g.screenPeer(handle) : handle;
    },
    watch: (h, events, lo, hi) => g.watch(h as Handle, events >>> 0, lo >>> 0, hi >>> 0),
    close: (h) => {
      const index = t.indexOf(h as Handle);
      if (index < 0) return -Errno.EBADF;
      if (t.kindAt(index) === Kind.Listener) return -Errno.EPERM;
      g.closeIndex(index, h as Handle);
      return 0;
    },
  };
}

/** Bytes: one recv or send, the batches (host/guest/io-batch.ts), shutdown. */
function ioCalls(
  g: HostcallTarget,
  { kernel }: InstanceOptions,
): Pick<Hostcalls, 'recv' | 'send' | 'recv_many' | 'send_many' | 'shutdown'> {
  const t = g.handles;
  const io = g.io;
  return {
    recv: (h, ptr, len) => {
      const fd = t.fd(h as Handle, Kind.Conn);
      if (fd < 0) return fd;
      if (g.carried !== null && g.carried.has(h)) {
        const n = takeCarried(g.carried, h, g.memory, ptr >>> 0, len >>> 0);
        if (g.carried.size === 0) g.carried = null;
        return n;
      }
      return kernel.recv(fd, g.memory, ptr >>> 0, len >>> 0);
    },
    send: (h, ptr, len) => {
      const fd = t.fd(h as Handle, Kind.Conn);
      return fd < 0 ? fd : kernel.send(fd, g.memory, ptr >>> 0, len >>> 0);
    },
    recv_many: (ptr, n, area, areaLen) =>
      io.run(g.memory, ptr >>> 0, n, area >>> 0, areaLen >>> 0, false, g.carried),
    send_many: (ptr, n) => io.run(g.memory, ptr >>> 0, n, 0, 0, true),
    shutdown: (h, how) => {
      const fd = t.fd(h as Handle, Kind.Conn);
      if (fd < 0) return fd;
      return how === 0 || how === 1 || how === 2 ? kernel.shutdown(fd, how) : -Errno.EINVAL;
    },
  };
}

/** The clocks and the limits the guest reads (host/limits.ts). */
function clockAndLimitCalls(
  g: HostcallTarget,
  module: WebAssembly.Module,
  opts: InstanceOptions,
): Pick<Hostcalls, 'now_ms' | 'wall_ms' | 'limit'> {
  const now = opts.now;
  const wall = opts.wallClock ?? Date.now;
  // A Map, not the limits object: a name like `constructor` must not find Object.prototype's.
  // The module's declared defaults under the given values (read from its custom section
  // once per instance, not per call).
  const given = { ...declaredDefaults(module), ...opts.limits };
  const limits = new Map(Object.entries(given).filter(([, v]) => typeof v === 'number'));
  return {
    now_ms: () => now(),
    wall_ms: () => wall(),
    limit: (ptr, len) => {
      const name = readUtf8(g.memory, ptr >>> 0, len >>> 0);
      return (name === null ? undefined : limits.get(name)) ?? -1;
    },
  };
}

/** What a guest may learn of a connection's TLS (docs/ABI.md, `tls_info`): never a key. */
function tlsCalls(g: HostcallTarget, { kernel }: InstanceOptions): Pick<Hostcalls, 'tls_info'> {
  return {
    tls_info: (h, ptr, len) => {
      const fd = g.handles.fd(h as Handle, Kind.Conn);
      if (fd < 0) return fd;
      const info = kernel.tlsInfo?.(fd) ?? 0;
      if (typeof info === 'number') return info < 0 ? info : 0;
      const alpn = Buffer.from(info.alpn).subarray(0, 255);
      const sni = Buffer.from(info.sni).subarray(0, 255);
      const size = 2 + alpn.length + sni.length;
      if (size > len >>> 0) return -Errno.ERANGE;
      if ((ptr >>> 0) + size > g.memory.byteLength) return -Errno.EFAULT;
      const out = new Uint8Array(g.memory, ptr >>> 0, size);
      out[0] = alpn.length;
      out.set(alpn, 1);
      out[1 + alpn.length] = sni.length;
      out.set(sni, 2 + alpn.length);
      return size;
    },
  };
}
