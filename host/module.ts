/**
 * Loading a guest module and checking, before anything runs, that it is one this host can
 * serve: a WebAssembly module that exports ABI v1 and imports only what the host provides.
 * Every refusal is a WasmloopError with a one-line message and a stable `code`.
 */
import { readFile } from 'node:fs/promises';
import { HOSTCALLS } from './abi.ts';
import { WasmloopError } from './errors.ts';
import { checkLimits, checkLimitValues, effectiveLimits, type Limits } from './limits.ts';
import { capGuest, enforceableCaps, type GuestCaps } from './memory-limit.ts';

const ENV_IMPORTS = ['abort', 'trace', 'seed'];
const REQUIRED_EXPORTS = [
  'memory',
  'wl_init',
  'wl_events_ptr',
  'wl_events_cap',
  'wl_dispatch',
  'wl_shutdown',
  'wl_stats_ptr',
];

export type ModuleSource = string | URL | Uint8Array | ArrayBuffer | WebAssembly.Module;

/** The caps each module compiled here was compiled under. A WebAssembly.Module cannot be
 *  inspected for its maxima, so a precompiled module is trusted only when it is a key here,
 *  which only a module wasmloop compiled from bytes can be. (Per thread: a Module posted to a
 *  worker is not a key there; the pool hands its workers modules it already checked.) */
const compiledCaps = new WeakMap<WebAssembly.Module, GuestCaps>();

/** The caps that `limits` (with the defaults of the host-enforced ones) impose. */
function capsOf(limits: Limits): GuestCaps {
  const effective = effectiveLimits(limits);
  return enforceableCaps({
    maxMemoryBytes: effective['max-memory-size']!,
    maxTableElements: effective['max-table-elements']!,
  });
}

/**
 * Compiles a guest with its memory and tables capped by `limits` (max-memory-size,
 * max-table-elements; defaults for those not given), for `createLoop({ module })` to take
 * under the same limits or higher ones. Errors as loadModule's, and ERR_WASMLOOP_LIMIT.
 */
export async function compileGuest(
  source: ModuleSource,
  options: { limits?: Limits } = {},
): Promise<WebAssembly.Module> {
  const limits = checkLimitValues({ ...options.limits });
  const module = await loadModule(source, limits);
  checkLimits(limits, module); // names and ranges: the module's declaration says which it takes
  return module;
}

/** Compiles (or takes) a module. With `limits`, its memory and tables are capped by them, and
 *  a precompiled module is accepted only when compileGuest capped it at or below them; without
 *  (only to look at a module's exports), it is compiled as it is. Errors:
 *  ERR_WASMLOOP_MODULE_READ, ERR_WASMLOOP_NOT_WASM, ERR_WASMLOOP_MEMORY. */
export async function loadModule(
  source: ModuleSource,
  limits?: Limits,
): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) {
    if (limits !== undefined) checkPrecompiled(source, capsOf(limits));
    return source;
  }
  const name =
    typeof source === 'string' || source instanceof URL ? String(source) : 'module bytes';
  let bytes = await readSource(source, name);
  const caps = limits === undefined ? undefined : capsOf(limits);
  // Only a module that validates is rewritten: the compiler reports what is wrong with the rest.
  if (caps !== undefined && WebAssembly.validate(bytes as BufferSource))
    bytes = capGuest(bytes, caps);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as BufferSource);
  } catch (err) {
    throw new WasmloopError(
      'ERR_WASMLOOP_NOT_WASM',
      `${name} is not a valid WebAssembly module: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (caps !== undefined) compiledCaps.set(module, caps);
  return module;
}

async function readSource(
  source: string | URL | Uint8Array | ArrayBuffer,
  name: string,
): Promise<Uint8Array> {
  if (typeof source !== 'string' && !(source instanceof URL)) {
    return source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  try {
    return await readFile(source);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new WasmloopError('ERR_WASMLOOP_MODULE_READ', `cannot read module ${name}: ${reason}`, {
      cause: err,
    });
  }
}

/** Throws ERR_WASMLOOP_MEMORY unless compileGuest capped `module` at or below `caps`. */
function checkPrecompiled(module: WebAssembly.Module, caps: GuestCaps): void {
  const had = compiledCaps.get(module);
  const fix = 'pass the bytes or a path, or compile it with compileGuest(source, { limits })';
  if (had === undefined) {
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `a WebAssembly.Module not compiled by wasmloop's compileGuest cannot be capped: ${fix}`,
    );
  }
  if (had.maxMemoryBytes > caps.maxMemoryBytes || had.maxTableElements > caps.maxTableElements) {
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `the precompiled module was capped at ${had.maxMemoryBytes} bytes of memory and ${had.maxTableElements} table elements, ` +
        `above the limits in force (${caps.maxMemoryBytes}, ${caps.maxTableElements}): ${fix} under these limits`,
    );
  }
}

/** A guest ready to serve: its module, loaded and capped, and the limits its instances get. */
export interface PreparedGuest {
  module: WebAssembly.Module;
  limits: Limits;
}

/** Loads `source` under the `given` limits (createLoop's `limits`) and checks it: the ABI, and
 *  the given limits against its own declaration (whose defaults fill in the rest). */
export async function prepareGuest(source: ModuleSource, given: Limits): Promise<PreparedGuest> {
  const module = await loadModule(source, effectiveLimits(given));
  checkGuest(module);
  return { module, limits: effectiveLimits(checkLimits(given, module), module) };
}

/** prepareGuest for a reload: any failure is ERR_WASMLOOP_RELOAD (its cause the reason). */
export async function prepareReload(source: ModuleSource, given: Limits): Promise<PreparedGuest> {
  try {
    return await prepareGuest(source, given);
  } catch (err) {
    throw reloadError(err);
  }
}

/** ERR_WASMLOOP_RELOAD for a reload that failed before anything moved. */
export function reloadError(err: unknown): WasmloopError {
  if (err instanceof WasmloopError && err.code === 'ERR_WASMLOOP_RELOAD') return err;
  const why = err instanceof Error ? err.message : String(err);
  return new WasmloopError('ERR_WASMLOOP_RELOAD', `reload failed: ${why}`, { cause: err });
}

/** True when the module speaks the wasmloop ABI at all (any version marker). */
export function isWasmloopGuest(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.exports(module).some((e) => /^wl_abi_version_\d+$/.test(e.name));
}

/** Throws ERR_WASMLOOP_ABI unless the module is a wasmloop v1 guest this host can link. */
export function checkGuest(module: WebAssembly.Module): void {
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (!exports.has('wl_abi_version_1')) {
    const other = [...exports].find((n) => /^wl_abi_version_\d+$/.test(n));
    const message = other
      ? `guest speaks wasmloop ABI v${other.slice('wl_abi_version_'.length)}; this host speaks v1`
      : 'not a wasmloop guest (no wl_abi_version_1 export)';
    throw new WasmloopError('ERR_WASMLOOP_ABI', message);
  }
  const missing = REQUIRED_EXPORTS.filter((n) => !exports.has(n));
  if (missing.length > 0)
    throw new WasmloopError('ERR_WASMLOOP_ABI', `guest is missing exports: ${missing.join(', ')}`);
  for (const imp of WebAssembly.Module.imports(module)) {
    // Only functions: an imported memory or table would be one the host did not cap.
    if (imp.kind !== 'function') {
      throw new WasmloopError(
        'ERR_WASMLOOP_IMPORT',
        `guest imports ${imp.kind} ${imp.module}.${imp.name}; a guest may import only functions`,
      );
    }
    const known =
      (imp.module === 'wasmloop' && (HOSTCALLS as readonly string[]).includes(imp.name)) ||
      (imp.module === 'env' && ENV_IMPORTS.includes(imp.name)) ||
      imp.module === 'wasi_snapshot_preview1';
    if (!known)
      throw new WasmloopError(
        'ERR_WASMLOOP_IMPORT',
        `guest imports ${imp.module}.${imp.name}, which this host does not provide`,
      );
  }
}

/** True when the module imports WASI preview1. */
export function usesWasi(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1');
}
