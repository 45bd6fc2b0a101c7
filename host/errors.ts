/**
 * The base of every error wasmloop throws on purpose. `code` is stable and machine-readable
 * (`ERR_WASMLOOP_*`); the message is for people and may change.
 */
export class WasmloopError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    // A literal, not new.target.name: a minifying bundler may rename classes. Subclasses
    // that want their own name set it after super().
    this.name = 'WasmloopError';
    this.code = code;
  }
}
