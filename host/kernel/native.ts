/**
 * Loads the native shim (host/native/*.c, built to build/Release/wasmloop.node): the real
 * Kernel over Linux sockets and epoll, plus pollStart/pollStop to hear about readiness from
 * Node's own event loop.
 */
import { createRequire } from 'node:module';

import { WasmloopError } from '../errors.ts';
import type { Kernel } from './contract.ts';

export interface NativeKernel extends Kernel {
  /**
   * Watches epoll fd `epfd` from Node's event loop and calls `cb` (no arguments) whenever it
   * is readable; `cb` should drain it with `epollWait(epfd, ..., 0)`. Returns a handle for
   * `pollStop`, or -errno: -EINVAL (bad arguments, or `epfd` is not an epoll fd), -EBADF,
   * -EEXIST (this thread already polls `epfd`). A throw from `cb` is reported as an uncaught
   * exception. The poll keeps the event loop alive until stopped, and is stopped when its
   * thread (Node env) ends. Call `pollStop` before closing `epfd`.
   */
  pollStart(epfd: number, cb: () => void): object | number;
  /** Stops a poll: 0, -EBADF if it was already stopped, -EINVAL if not a poll handle. */
  pollStop(handle: object): number;
}

/**
 * Relative to this module, which runs either from source as host/kernel/native.ts (two levels
 * below the package root) or bundled into dist/*.js (one level below).
 */
const ADDON_PATH = import.meta.url.endsWith('.ts')
  ? '../../build/Release/wasmloop.node'
  : '../build/Release/wasmloop.node';

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
  try {
    cached = require(ADDON_PATH) as NativeKernel;
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException | null)?.code === 'MODULE_NOT_FOUND';
    const detail = cause instanceof Error ? cause.message : String(cause);
    const message = missing
      ? 'the native shim is not built: run `npm run build:native`'
      : `the native shim failed to load (${detail}): rebuild it with \`npm run build:native\``;
    throw new WasmloopError('ERR_WASMLOOP_NATIVE', message, { cause });
  }
  return cached;
}
