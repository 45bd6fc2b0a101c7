/**
 * Plain WASI preview1 command modules: a module that exports `_start` (and `memory`) and imports
 * only `wasi_snapshot_preview1` (plus AssemblyScript's `env.abort`/`trace`/`seed`) runs once,
 * like `wasmtime run`: arguments, only the environment it is given, optional preopened
 * directories, the host's stdin/stdout/stderr streamed live, and its proc_exit code (or a trap)
 * becomes the exit status. docs/WASI.md describes the behaviour and the choice of backend.
 *
 * Two backends provide the WASI functions (host/command/backends.ts, which also puts wasmloop's
 * own stdio, poll_oneoff and u32 arguments between them and the guest); this file owns
 * everything around them, so both behave the same: options, proc_exit, traps, exit status.
 */
import {
  createBackend,
  type Backend,
  type BackendConfig,
  type WasiBackendName,
} from './backends.ts';
import { memoryBuffer } from './memview.ts';
import { writeBlocking, type Stdio } from './stdio.ts';
import { WasmloopError } from '../errors.ts';
import { GuestTrap, runtimeImports } from '../guest/env.ts';
import type { ListenAddress } from '../address.ts';
import { connectionLimit, type Limits } from '../limits.ts';
import type { ListenOptions } from '../types.ts';
import { closeListeners, openCommandListeners, resolveDirs } from './preopens.ts';

export type { WasiBackendName } from './backends.ts';

/** A host directory the guest sees at `guest` (`--dir HOST[::GUEST]`). */
export interface PreopenDir {
  host: string;
  guest: string;
}

export interface CommandOptions {
  /** The guest's argv; by convention argv[0] is the module's name. */
  args: string[];
  /** The guest's whole environment: nothing of the host's is added. */
  env: Record<string, string>;
  /** Directories to preopen; only the node backend can map host directories. */
  dirs: PreopenDir[];
  /** Default: 'node' when `dirs` is not empty, else 'wasmer' (docs/WASI.md says why). */
  backend?: WasiBackendName;
  /** Listeners preopened as the guest's fds 3, 4, ... (before `dirs`); their addresses go to
   *  `onListening` before the command starts (port 0 replaced by the one bound). */
  listen?: ListenOptions[];
  /** Listening sockets opened elsewhere (`--listenfd`), handed over and preopened after
   *  `listen`'s, checked as createLoop checks them. */
  listenFds?: number[];
  onListening?: (addresses: ListenAddress[]) => void;
  /** Host limits; a command takes max-connections (accepted sockets open at once). */
  limits?: Limits;
  /** Host file descriptors behind the guest's fds 0, 1 and 2 (default 0, 1, 2). */
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

/** The exit status when the guest traps (EX_SOFTWARE, like `wasmloop run`'s "guest trapped"). */
export const TRAP_STATUS = 70;
/** The exit status for a proc_exit code a process cannot exit with (above 255). */
export const BAD_EXIT_STATUS = 1;

/** Thrown by our proc_exit: it unwinds the guest, which cannot return from proc_exit. Not an
 *  Error: it needs no stack trace and must never be mistaken for a trap. */
class ProcExit {
  constructor(readonly code: number) {}
}

// --- options ---------------------------------------------------------------------------------

/** Parses a `--dir HOST[::GUEST]` value; without `::GUEST` the guest sees the path as given. */
export function parseDirOption(value: string): PreopenDir {
  const at = value.indexOf('::');
  const host = at < 0 ? value : value.slice(0, at);
  const guest = at < 0 ? value : value.slice(at + 2);
  if (host === '' || guest === '')
    throw new WasmloopError('ERR_WASMLOOP_USAGE', '--dir needs HOST_DIR[::GUEST_DIR]');
  return { host, guest };
}

/** Parses a `--wasi` value. */
export function parseWasiBackend(value: string): WasiBackendName {
  if (value === 'wasmer' || value === 'node') return value;
  throw new WasmloopError(
    'ERR_WASMLOOP_USAGE',
    `--wasi must be 'wasmer' or 'node', not '${value}'`,
  );
}

/** The backend to use. @wasmer/wasi cannot see host files, so preopened directories need node:
 *  asked for explicitly, that combination is refused rather than silently run without them. */
export function chooseBackend(
  backend: WasiBackendName | undefined,
  dirs: readonly PreopenDir[],
): WasiBackendName {
  if (backend === undefined) return dirs.length > 0 ? 'node' : 'wasmer';
  parseWasiBackend(backend);
  if (backend === 'wasmer' && dirs.length > 0) {
    throw new WasmloopError(
      'ERR_WASMLOOP_USAGE',
      '--dir needs the node WASI backend: @wasmer/wasi gives the guest an in-memory filesystem that cannot see host directories (use --wasi node, or leave --wasi out)',
    );
  }
  return backend;
}

/** Throws ERR_WASMLOOP_NOT_COMMAND unless the module is a WASI command: `_start` and `memory`. */
export function checkCommand(module: WebAssembly.Module): void {
  const kinds = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (kinds.get('_start') !== 'function') {
    throw new WasmloopError(
      'ERR_WASMLOOP_NOT_COMMAND',
      'not a WASI command (no _start export) nor a wasmloop guest (no wl_abi_version_1 export)',
    );
  }
  if (kinds.get('memory') !== 'memory') {
    throw new WasmloopError(
      'ERR_WASMLOOP_NOT_COMMAND',
      'not a WASI command: it does not export its memory as "memory"',
    );
  }
}

// --- running ---------------------------------------------------------------------------------

/** Refuses, before instantiating, an import neither WASI preview1 nor the runtime provides. */
function checkImports(
  module: WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imports[imp.module]?.[imp.name] !== undefined) continue;
    const hint =
      imp.module === 'wasi_snapshot_preview1'
        ? ''
        : ' (a WASI command may import only wasi_snapshot_preview1)';
    throw new WasmloopError(
      'ERR_WASMLOOP_IMPORT',
      `module imports ${imp.module}.${imp.name}, which this host does not provide${hint}`,
    );
  }
}

/** The message of a guest trap, on one line; undefined for anything else (a host bug). */
function trapMessage(err: unknown): string | undefined {
  const isTrap =
    err instanceof GuestTrap ||
    err instanceof WebAssembly.RuntimeError ||
    // V8 reports a wasm stack overflow as a RangeError.
    (err instanceof RangeError && /call stack/i.test(err.message));
  return isTrap ? (err as Error).message.replace(/\s*\n\s*/g, ' ') : undefined;
}

/** A proc_exit code as a process exit status. */
function exitStatus(code: number): number {
  const c = code >>> 0;
  return c <= 255 ? c : BAD_EXIT_STATUS;
}

async function instantiate(
  module: WebAssembly.Module,
  imports: WebAssembly.Imports,
): Promise<WebAssembly.Instance> {
  try {
    return await WebAssembly.instantiate(module, imports);
  } catch (err) {
    if (!(err instanceof WebAssembly.LinkError)) throw err;
    throw new WasmloopError('ERR_WASMLOOP_IMPORT', `module cannot be linked: ${err.message}`, {
      cause: err,
    });
  }
}

/**
 * Runs a WASI preview1 command module to completion; resolves to its exit status: the code it
 * passed to proc_exit, 0 when _start returns, TRAP_STATUS after a trap (reported as one line,
 * `wasmloop: guest trapped: <message>`, on the guest's stderr fd after its own output).
 * Errors that are the caller's (WasmloopError): ERR_WASMLOOP_NOT_COMMAND, ERR_WASMLOOP_DIR,
 * ERR_WASMLOOP_USAGE (a bad backend, or dirs with the wasmer backend), ERR_WASMLOOP_IMPORT.
 */
export async function runCommand(
  module: WebAssembly.Module,
  opts: CommandOptions,
): Promise<number> {
  checkCommand(module);
  const backendName = chooseBackend(opts.backend, opts.dirs);
  const preopens = resolveDirs(opts.dirs);
  const stdio: Stdio = {
    stdin: opts.stdin ?? 0,
    stdout: opts.stdout ?? 1,
    stderr: opts.stderr ?? 2,
  };
  let instance: WebAssembly.Instance | undefined;
  const memory = memoryBuffer(() => instance);
  const listeners = await openCommandListeners(
    opts.listen ?? [],
    opts.listenFds ?? [],
    opts.onListening,
  );
  const config: BackendConfig = {
    ...stdio,
    ...{ args: opts.args, env: opts.env, preopens, memory, listeners },
    maxConnections: connectionLimit(opts.limits ?? {}),
  };
  const backend = await createBackend(backendName, module, config).catch((err: unknown) => {
    closeListeners(listeners);
    throw err;
  });
  try {
    // AssemblyScript's runtime imports, as a wasmloop guest gets them; trace to the guest's stderr.
    const env = runtimeImports(memory, {
      trace: (line) => writeBlocking(stdio.stderr, Buffer.from(`${line}\n`)),
    });
    const end = await runToEnd(module, backend, env, (i) => (instance = i));
    flushQuietly(backend);
    if (end.trap === undefined) return exitStatus(end.code);
    writeQuietly(stdio.stderr, `wasmloop: guest trapped: ${end.trap}\n`);
    return TRAP_STATUS;
  } finally {
    backend.dispose();
  }
}

/** How a command ended: the code it gave proc_exit (0 when _start returned), or a trap. */
type CommandEnd = { code: number; trap?: undefined } | { trap: string };

/** Instantiates the command (`started` sees the instance first) and runs it to its end. A
 *  throw that is neither proc_exit nor a trap is a host bug and passes through. */
async function runToEnd(
  module: WebAssembly.Module,
  backend: Backend,
  env: WebAssembly.ModuleImports,
  started: (instance: WebAssembly.Instance) => void,
): Promise<CommandEnd> {
  let exited: number | undefined;
  const procExit = (code: number | bigint) => {
    // Recorded as well as thrown: a guest with wasm exception handling could catch the throw.
    exited ??= Number(code);
    throw new ProcExit(exited);
  };
  const imports = { wasi_snapshot_preview1: { ...backend.functions, proc_exit: procExit }, env };
  checkImports(module, imports);
  try {
    const instance = await instantiate(module, imports);
    started(instance);
    runEntryPoints(backend, instance);
  } catch (err) {
    if (!(err instanceof ProcExit) && exited === undefined) {
      const trap = trapMessage(err);
      if (trap === undefined) throw err;
      return { trap };
    }
  }
  return { code: exited ?? 0 };
}

/** `_initialize` first when the module also exports it (AssemblyScript's --exportStart output
 *  runs its top-level code there), then `_start`. */
function runEntryPoints(backend: Backend, instance: WebAssembly.Instance): void {
  const { _initialize, _start } = instance.exports as { _initialize?: unknown; _start: () => void };
  backend.run(instance, () => {
    if (typeof _initialize === 'function') (_initialize as () => void)();
    _start();
  });
}

/** Last output at exit: a reader that went away (EPIPE) must not turn the guest's status into
 *  a host error. */
function flushQuietly(backend: Backend): void {
  try {
    backend.flush();
  } catch {
    // nothing left to tell anyone
  }
}

function writeQuietly(fd: number, line: string): void {
  try {
    writeBlocking(fd, Buffer.from(line));
  } catch {
    // as above
  }
}
