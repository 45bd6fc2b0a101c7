/**
 * The `node` WASI backend for command modules: Node's own `node:wasi` (uvwasi), which maps real
 * host directories into the guest and reads and writes the host's file descriptors directly.
 * host/command/command.ts owns everything around it (stdio retries, exit, traps); this file only loads
 * node:wasi quietly and adapts it to the backend shape command.ts runs.
 */
import { createRequire } from 'node:module';
import type { WASI as NodeWasi } from 'node:wasi';

/** What command.ts needs from a backend (the same shape the wasmer backend has). */
export interface NodeWasiConfig {
  args: string[];
  env: Record<string, string>;
  /** Guest path -> absolute host path. */
  preopens: Record<string, string>;
  stdin: number;
  stdout: number;
  stderr: number;
}

export interface NodeWasiBackend {
  /** The wasi_snapshot_preview1 functions, bound to this context. */
  functions: Record<string, (...args: never[]) => unknown>;
  /** Binds the guest's memory and calls `body` (the guest's entry points) inside node:wasi. */
  run(memory: WebAssembly.Memory, body: () => void): void;
}

let WasiClass: typeof NodeWasi | undefined;

/** True for the one warning node:wasi prints when it is loaded (it is experimental in Node 20). */
function isWasiExperimentalWarning(warning: string | Error, type: unknown): boolean {
  const name = warning instanceof Error ? warning.name : type;
  const text = warning instanceof Error ? warning.message : warning;
  return name === 'ExperimentalWarning' && /^WASI is an experimental feature/.test(text);
}

/**
 * Loads node:wasi, dropping only its ExperimentalWarning. Node emits that warning synchronously
 * through process.emitWarning while the builtin module is first evaluated, so the filter is in
 * place for exactly one synchronous require() and every other warning still reaches the user.
 * (Removing 'warning' listeners, or --no-warnings, would silence unrelated warnings too.)
 */
function loadNodeWasi(): typeof NodeWasi {
  if (WasiClass) return WasiClass;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (
    this: NodeJS.Process,
    warning: string | Error,
    ...rest: unknown[]
  ) {
    const type =
      typeof rest[0] === 'object' && rest[0] !== null
        ? (rest[0] as { type?: unknown }).type
        : rest[0];
    if (isWasiExperimentalWarning(warning, type)) return;
    return (emitWarning as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    const require = createRequire(import.meta.url);
    WasiClass = (require('node:wasi') as typeof import('node:wasi')).WASI;
  } finally {
    process.emitWarning = emitWarning;
  }
  return WasiClass;
}

export function createNodeWasi(config: NodeWasiConfig): NodeWasiBackend {
  const WASI = loadNodeWasi();
  const wasi = new WASI({
    version: 'preview1',
    args: config.args,
    env: config.env,
    preopens: config.preopens,
    // command.ts replaces proc_exit, but if node:wasi's own exit path ever ran, it must not end
    // the host process behind runCommand's back.
    returnOnExit: true,
    stdin: config.stdin,
    stdout: config.stdout,
    stderr: config.stderr,
  });
  return {
    functions: { ...wasi.wasiImport } as NodeWasiBackend['functions'],
    run(memory, body) {
      // node:wasi binds memory only inside start()/initialize(), and start() refuses a module
      // that also exports _initialize (AssemblyScript's --exportStart output), so it is given
      // a stand-in instance whose _start runs the guest's real entry points in order.
      wasi.start({ exports: { memory, _start: body } });
    },
  };
}
