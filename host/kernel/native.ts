/**
 * Loads the native shim (host/native/*.c, built to build/Release/wasmloop.node, or the prebuilt
 * binary the package ships in prebuilds/): the real Kernel over Linux sockets and epoll, plus
 * pollStart/pollTarget/pollStop to hear about readiness from Node's own event loop.
 */
import { createRequire } from 'node:module';

import { WasmloopError } from '../errors.ts';
import type { Fd, Kernel } from './contract.ts';

export interface NativeKernel extends Kernel {
  /**
   * Watches epoll fd `epfd` from Node's event loop and calls `cb` whenever it is readable.
   * Without a target (`pollTarget`) `cb` gets a negative errno (-ENOENT) and should drain `epfd`
   * with `epollWait(epfd, ..., 0)`. With one, the shim fetches the ready events into it with
   * `epoll_wait(..., 0)` before calling: `cb` gets their count (> 0; with none it is not
   * called), or a negative errno when nothing was fetched (-EFAULT: the target no longer fits
   * its ArrayBuffer, e.g. detached by `memory.grow`; or epoll_wait's error), and then drains
   * `epfd` itself as without a target. Returns a handle for `pollStop`, or -errno: -EINVAL (bad
   * arguments, or `epfd` is not an epoll fd), -EBADF, -EEXIST (this thread already polls
   * `epfd`). A throw from `cb` is reported as an uncaught exception. The poll keeps the event
   * loop alive until stopped, and is stopped when its thread (Node env) ends. Call `pollStop`
   * before closing `epfd`.
   */
  pollStart(epfd: number, cb: (fetched: number) => void): object | number;
  /**
   * Where the poll fetches events: `maxEvents` 12-byte records at `ptr` in `memory` (the
   * guest's event ring), or nowhere (`memory` null). The poll holds `memory` until the next
   * call or pollStop. 0, or -EFAULT (the range is outside `memory`), -EINVAL (bad arguments or
   * not a poll handle), -EBADF (the poll was stopped).
   */
  pollTarget(handle: object, memory: ArrayBuffer | null, ptr?: number, maxEvents?: number): number;
  /** Stops a poll: 0, -EBADF if it was already stopped, -EINVAL if not a poll handle. */
  pollStop(handle: object): number;
  /** Waits up to `maxMs` for the poll's events unless Node's loop has work first: the count
   *  fetched into the target, 0, or -errno. */
  pollLinger(handle: object, maxMs: number): number;
  /** An inherited fd (host/listen-fds.ts) checked to be a listening IPv4/IPv6 TCP socket and
   *  made non-blocking and close-on-exec: 0, or -EBADF, -ENOTSOCK, -EINVAL (a socket that is
   *  not a listening stream), -EAFNOSUPPORT (e.g. a Unix socket). */
  adoptListener(fd: Fd): number;
  /** A close-on-exec duplicate of a listener, sharing its accept queue: the new fd, or -errno. */
  dupListener(fd: Fd): Fd;
  // ---- TLS (host/native/tls.c; host/tls.ts) ----
  /** A TLS context from a PEM certificate (chain) and key: its id, or { errno, message }
   *  (-EINVAL unreadable or not a pair, -ERANGE expired or not yet valid). */
  tlsContext(cert: Uint8Array, key: Uint8Array): number | { errno: number; message: string };
  /** New default certificate for handshakes from now on: 0 or { errno, message }. */
  tlsContextSwap(
    id: number,
    cert: Uint8Array,
    key: Uint8Array,
  ): number | { errno: number; message: string };
  /** One more certificate, chosen by SNI name, or (slot >= 0) a new one in place of the
   *  slot-th added: 0 or { errno, message }. */
  tlsContextAdd(
    id: number,
    cert: Uint8Array,
    key: Uint8Array,
    slot?: number,
  ): number | { errno: number; message: string };
  /** Handshake timeout and cap on handshakes in flight per thread: 0 or -errno. */
  tlsContextLimits(id: number, handshakeTimeoutMs: number, maxHandshakes: number): number;
  /** Drops the id (listeners and connections made with it keep their hold): 0 or -errno. */
  tlsContextFree(id: number): number;
  /** [handshakes, failures, timeouts, refused] or -errno. */
  tlsContextStats(id: number): number[] | number;
  /** Marks a listener as TLS with context `id` (-1: plaintext again): 0 or -errno. */
  tlsListener(fd: Fd, id: number): number;
  /** A listener's context id, or -1. */
  tlsListenerId(fd: Fd): number;
  /** Ms until epoll fd `epfd`'s TLS connections need a tick (0: plaintext is buffered, or a
   *  handshake just expired), or -1 for never; the libuv driver arms a timer with it. */
  tlsWake(epfd: Fd): number;
}

/**
 * Relative to this module, which runs either from source as host/kernel/native.ts (two levels
 * below the package root) or bundled into dist/*.js (one level below). Tried in the order
 * node-gyp-build tries them: a build from source first (`npm run build:native`, or the install
 * script when no prebuilt binary loads), then the prebuilt N-API binary the package ships for
 * this platform, in prebuildify's layout (scripts/prebuild.js puts it there).
 */
const PACKAGE_ROOT = import.meta.url.endsWith('.ts') ? '../../' : '../';
const ADDON_PATHS = [
  'build/Release/wasmloop.node',
  `prebuilds/${process.platform}-${process.arch}/node.napi.node`,
];

let cached: NativeKernel | undefined;

/** The native kernel, loaded once per thread. Throws a WasmloopError when unavailable. */
export function loadNative(): NativeKernel {
  if (cached !== undefined) return cached;
  if (process.platform !== 'linux') {
    throw new WasmloopError(
      'ERR_WASMLOOP_PLATFORM',
      `wasmloop needs Linux (epoll); this is ${process.platform}`,
    );
  }
  const require = createRequire(import.meta.url);
  let cause: unknown;
  for (const path of ADDON_PATHS) {
    try {
      // A copy: the addon's exports object, filled by napi_define_properties, can be left in
      // V8's dictionary mode (it was with 29 exports, not with 30), and then every
      // `kernel.recvMany` of the host's optimized code is a LoadIC lookup; a plain object with
      // the same methods has fast properties.
      cached = { ...(require(PACKAGE_ROOT + path) as NativeKernel) };
      return cached;
    } catch (err) {
      cause = err;
      if ((err as NodeJS.ErrnoException | null)?.code !== 'MODULE_NOT_FOUND') break;
    }
  }
  const missing = (cause as NodeJS.ErrnoException | null)?.code === 'MODULE_NOT_FOUND';
  const detail = cause instanceof Error ? cause.message : String(cause);
  const message = missing
    ? 'the native shim is not built: run `npm run build:native`'
    : `the native shim failed to load (${detail}): rebuild it with \`npm run build:native\``;
  throw new WasmloopError('ERR_WASMLOOP_NATIVE', message, { cause });
}
