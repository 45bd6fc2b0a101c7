/**
 * The base of every error wasmloop throws on purpose. `code` is stable and machine-readable
 * (`ERR_WASMLOOP_*`); the message is for people and may change.
 */

/**
 * Every code the host throws. The CLI maps each to an exit status (host/cli.ts `CODE_TO_EXIT`,
 * typed `Record<WasmloopErrorCode, number>`), so a code added here without one is a compile
 * error, and a code thrown without being listed here is one too.
 */
export const WASMLOOP_ERROR_CODES = [
  'ERR_WASMLOOP_USAGE',
  'ERR_WASMLOOP_ADDRESS',
  'ERR_WASMLOOP_LIMIT',
  'ERR_WASMLOOP_NOT_WASM',
  'ERR_WASMLOOP_MODULE_READ',
  'ERR_WASMLOOP_DIR',
  'ERR_WASMLOOP_NOT_COMMAND',
  'ERR_WASMLOOP_MEMORY',
  'ERR_WASMLOOP_ABI',
  'ERR_WASMLOOP_IMPORT',
  'ERR_WASMLOOP_INIT',
  'ERR_WASMLOOP_RELOAD',
  'ERR_WASMLOOP_TRAP',
  'ERR_WASMLOOP_RESTARTS',
  'ERR_WASMLOOP_WORKER',
  'ERR_WASMLOOP_EPOLL',
  'ERR_WASMLOOP_LISTEN',
  'ERR_WASMLOOP_PLATFORM',
  'ERR_WASMLOOP_NATIVE',
  'ERR_WASMLOOP_BUILD',
  'ERR_WASMLOOP_TLS',
] as const;

export type WasmloopErrorCode = (typeof WASMLOOP_ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(WASMLOOP_ERROR_CODES);

/** True when `code` is one of the documented codes (for values that crossed a boundary as
 *  plain strings, e.g. a worker's message). */
export function isWasmloopErrorCode(code: unknown): code is WasmloopErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

export class WasmloopError extends Error {
  readonly code: WasmloopErrorCode;

  constructor(code: WasmloopErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    // A literal, not new.target.name: a minifying bundler may rename classes. Subclasses
    // that want their own name set it after super().
    this.name = 'WasmloopError';
    this.code = code;
  }
}
