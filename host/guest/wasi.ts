/**
 * WASI preview1 for guests that import it, through @wasmer/wasi: the guest gets args, the
 * environment it was given (nothing of the host's), clocks and random, and an in-memory
 * filesystem. Its stdout/stderr are buffered by @wasmer/wasi; the loop calls flush() after
 * every guest call so output reaches the host's streams promptly and in order.
 */
import { init, WASI } from '@wasmer/wasi';

let ready: Promise<void> | undefined;

/** Loads @wasmer/wasi's own wasm once per process (or worker). */
export function initWasi(): Promise<void> {
  ready ??= init();
  return ready;
}

export interface WasiOptions {
  args?: string[];
  env?: Record<string, string>;
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
}

export interface WasiBinding {
  imports: WebAssembly.Imports;
  /** Binds to the instance (its memory); call once, right after instantiation. */
  bind(instance: WebAssembly.Instance): void;
  /** Moves buffered guest output to the host's streams. */
  flush(): void;
}

/** A fresh WASI context for one instance of `module`. Call initWasi() first. */
export function createWasi(module: WebAssembly.Module, opts: WasiOptions): WasiBinding {
  const wasi = new WASI({ args: opts.args ?? [], env: opts.env ?? {} });
  const stdout = opts.stdout ?? ((b) => process.stdout.write(b));
  const stderr = opts.stderr ?? ((b) => process.stderr.write(b));
  return {
    imports: wasi.getImports(module) as WebAssembly.Imports,
    bind: (instance) => void wasi.instantiate(instance, {}),
    flush() {
      const out = wasi.getStdoutBuffer();
      if (out.length > 0) stdout(out);
      const err = wasi.getStderrBuffer();
      if (err.length > 0) stderr(err);
    },
  };
}
