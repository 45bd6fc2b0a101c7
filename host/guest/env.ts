/**
 * What a guest instance gets besides the wasmloop hostcalls: the `env` module the
 * AssemblyScript runtime imports (abort, trace, seed), the trap error, and the decoders for
 * the text a guest hands the host. Every decoder checks its range against the memory first.
 */
import { WasmloopError } from '../errors.ts';

/** A guest trap: wasm `unreachable`, out-of-bounds access, stack overflow, `abort`, or a
 *  hostcall that threw. */
export class GuestTrap extends WasmloopError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_WASMLOOP_TRAP', message, options);
  }
}

/** An instance that could not start: `err` itself if it is a WasmloopError, else a trap whose
 *  message starts with `prefix`. */
export function asStartError(err: unknown, prefix: string): WasmloopError {
  return err instanceof WasmloopError ? err : asTrap(err, prefix);
}

/** `err` as a GuestTrap: itself if it is one, else one whose message starts with `prefix`. */
export function asTrap(err: unknown, prefix: string): GuestTrap {
  return err instanceof GuestTrap
    ? err
    : new GuestTrap(`${prefix}: ${(err as Error).message}`, { cause: err });
}

export interface EnvOptions {
  /** Where `env.trace` output goes (default: stderr). */
  trace?: (line: string) => void;
  /** The source of `env.seed` (default: the time and Math.random). */
  seed?: () => number;
}

/** The `env` module AssemblyScript's runtime imports; `memory` is the guest's current one. */
export function runtimeImports(
  memory: () => ArrayBuffer,
  opts: EnvOptions,
): Record<string, (...args: number[]) => number | void> {
  const text = (ptr: number) => readAsString(memory(), ptr);
  return {
    abort: (msg, file, line, col) => {
      throw new GuestTrap(
        `abort: ${text(msg) || 'no message'} at ${text(file) || '?'}:${line}:${col}`,
      );
    },
    trace: (msg, n, ...args) => {
      const line = `trace: ${text(msg)}${n > 0 ? ' ' + args.slice(0, n).join(', ') : ''}`;
      (opts.trace ?? ((s: string) => process.stderr.write(s + '\n')))(line);
    },
    seed: () => (opts.seed ? opts.seed() : Date.now() * Math.random()),
  };
}

/** Decodes UTF-8 bytes [ptr, ptr+len) of guest memory; null when out of range or over 256 bytes. */
export function readUtf8(buffer: ArrayBuffer, ptr: number, len: number): string | null {
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
