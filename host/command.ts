/**
 * Plain WASI preview1 command modules: a module that exports `_start` (and `memory`) and imports
 * only `wasi_snapshot_preview1` (plus AssemblyScript's `env.abort`/`trace`/`seed`) runs once,
 * like `wasmtime run`: arguments, only the environment it is given, optional preopened
 * directories, the host's stdin/stdout/stderr streamed live, and its proc_exit code (or a trap)
 * becomes the exit status. docs/WASI.md describes the behaviour and the choice of backend.
 *
 * Two backends provide the WASI functions; this file owns everything around them, so both
 * behave the same where they can: proc_exit, traps, stdio that never loses bytes to EAGAIN.
 *   wasmer  @wasmer/wasi: the guest's filesystem is an empty in-memory one (the default when
 *           no directory is preopened). Its stdout/stderr are buffers, drained after every
 *           fd_write; its stdin is a buffer too, so fd 0 is read from the host here instead.
 *   node    node:wasi (uvwasi): maps real host directories; reads and writes the host fds.
 */
import { readSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { WASI } from '@wasmer/wasi';
import { createNodeWasi } from './command-nodewasi.ts';
import { Errno } from './errno.ts';
import { WasmloopError } from './errors.ts';
import { GuestTrap, readAsString } from './instance.ts';
import { initWasi } from './wasi.ts';

export type WasiBackendName = 'wasmer' | 'node';

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
  /** Host file descriptors behind the guest's fds 0, 1 and 2 (default 0, 1, 2). */
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

/** The exit status when the guest traps (EX_SOFTWARE, like `wasmloop run`'s "guest trapped"). */
export const TRAP_STATUS = 70;
/** The exit status for a proc_exit code a process cannot exit with (above 255). */
export const BAD_EXIT_STATUS = 1;

type WasiFunction = (...args: (number | bigint)[]) => unknown;
type WasiFunctions = Record<string, WasiFunction>;

interface Stdio {
  stdin: number;
  stdout: number;
  stderr: number;
}

/** One WASI context, whichever implementation provides it. */
interface Backend {
  functions: WasiFunctions;
  /** Binds the context to the instance's memory, then calls `body` (the guest's entry points). */
  run(instance: WebAssembly.Instance, body: () => void): void;
  /** Moves output still buffered in the context to the host fds. */
  flush(): void;
  dispose(): void;
}

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
  if (host === '' || guest === '') throw new WasmloopError('ERR_WASMLOOP_USAGE', '--dir needs HOST_DIR[::GUEST_DIR]');
  return { host, guest };
}

/** Parses a `--wasi` value. */
export function parseWasiBackend(value: string): WasiBackendName {
  if (value === 'wasmer' || value === 'node') return value;
  throw new WasmloopError('ERR_WASMLOOP_USAGE', `--wasi must be 'wasmer' or 'node', not '${value}'`);
}

/** The backend to use. @wasmer/wasi cannot see host files, so preopened directories need node:
 *  asked for explicitly, that combination is refused rather than silently run without them. */
export function chooseBackend(backend: WasiBackendName | undefined, dirs: readonly PreopenDir[]): WasiBackendName {
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
    throw new WasmloopError('ERR_WASMLOOP_NOT_COMMAND', 'not a WASI command (no _start export) nor a wasmloop guest (no wl_abi_version_1 export)');
  }
  if (kinds.get('memory') !== 'memory') {
    throw new WasmloopError('ERR_WASMLOOP_NOT_COMMAND', 'not a WASI command: it does not export its memory as "memory"');
  }
}

/** Guest path -> absolute host path. ERR_WASMLOOP_DIR for a missing or doubled directory. */
function resolveDirs(dirs: readonly PreopenDir[]): Record<string, string> {
  const preopens = new Map<string, string>();
  for (const dir of dirs) {
    const host = resolve(dir.host);
    let isDir: boolean;
    try {
      isDir = statSync(host).isDirectory();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message;
      throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: ${reason}`, { cause: err });
    }
    if (!isDir) throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: not a directory`);
    if (dir.guest === '') throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: empty guest path`);
    if (preopens.has(dir.guest)) throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir: guest path ${dir.guest} is given twice`);
    preopens.set(dir.guest, host);
  }
  // fromEntries, not assignment: a guest path such as "__proto__" stays an ordinary key.
  return Object.fromEntries(preopens);
}

// --- blocking stdio --------------------------------------------------------------------------

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits for a non-blocking fd (a TTY or a pipe someone set O_NONBLOCK on) to become ready. The
 *  guest runs synchronously on this thread, so there is no event loop to wait on: sleep briefly
 *  and retry, backing off to 50 ms so an idle terminal costs little. */
class Backoff {
  private ms = 0;
  wait(): void {
    this.ms = Math.min(this.ms === 0 ? 1 : this.ms * 2, 50);
    Atomics.wait(sleeper, 0, 0, this.ms);
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The WASI errno for a Node fs error (EIO when it has no WASI equivalent). */
function toErrno(err: unknown): number {
  const code = errCode(err);
  return code !== undefined && code !== 'ESUCCESS' && code in Errno ? Errno[code as keyof typeof Errno] : Errno.EIO;
}

/** One read(2) that waits out EAGAIN and EINTR: the bytes read, 0 at end of input. */
function readBlocking(fd: number, into: Uint8Array): number {
  const backoff = new Backoff();
  for (;;) {
    try {
      return readSync(fd, into, 0, into.length, null);
    } catch (err) {
      if (errCode(err) === 'EAGAIN') backoff.wait();
      else if (errCode(err) !== 'EINTR') throw err;
    }
  }
}

/** Writes all of `bytes`, waiting out EAGAIN/EINTR and short writes. Throws other errors. */
function writeBlocking(fd: number, bytes: Uint8Array): void {
  const backoff = new Backoff();
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if (errCode(err) === 'EAGAIN') backoff.wait();
      else if (errCode(err) !== 'EINTR') throw err;
    }
  }
}

function fits(memory: ArrayBuffer, ptr: number, len: number): boolean {
  return ptr + len <= memory.byteLength;
}

/**
 * fd_read into the guest's iovecs from a host fd. Reads once, into the first non-empty buffer:
 * like readv(2) on a pipe it returns what is available now instead of blocking until every
 * buffer is full, which is what makes interactive stdin work.
 */
function readIntoIovecs(memory: ArrayBuffer, fd: number, iovs: number, count: number, nread: number): number {
  if (!fits(memory, iovs, count * 8) || !fits(memory, nread, 4)) return Errno.EFAULT;
  const view = new DataView(memory);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    if (len === 0) continue;
    if (!fits(memory, ptr, len)) return Errno.EFAULT;
    try {
      n = readBlocking(fd, new Uint8Array(memory, ptr, len));
    } catch (err) {
      return toErrno(err);
    }
    break;
  }
  view.setUint32(nread, n, true);
  return Errno.ESUCCESS;
}

/** Wraps fd_read/fd_write so that EAGAIN on fds 0-2 (a non-blocking stdio fd) is waited out
 *  rather than handed to a guest that, like most programs, treats it as a failure. */
function retryStdioEagain(fn: WasiFunction): WasiFunction {
  return (fd, ...rest) => {
    const backoff = new Backoff();
    for (;;) {
      const rc = fn(fd, ...rest);
      if (rc !== Errno.EAGAIN || Number(fd) > 2) return rc;
      backoff.wait();
    }
  };
}

// --- backends --------------------------------------------------------------------------------

interface BackendConfig extends Stdio {
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, string>;
  memory: () => ArrayBuffer;
}

async function wasmerBackend(module: WebAssembly.Module, config: BackendConfig): Promise<Backend> {
  await initWasi();
  const wasi = new WASI({ args: config.args, env: config.env });
  const base = wasmerFunctions(wasi, module);
  const linked = base !== undefined;
  const functions: WasiFunctions = { ...base };
  const flush = () => {
    const out = wasi.getStdoutBuffer();
    if (out.length > 0) writeBlocking(config.stdout, out);
    const err = wasi.getStderrBuffer();
    if (err.length > 0) writeBlocking(config.stderr, err);
  };
  if (base?.fd_write) {
    const fdWrite = base.fd_write;
    // Drain after every write (not only fds 1 and 2: a renumbered stdout still lands in
    // wasmer's buffer), so output is live and stdout/stderr interleave in the order written.
    functions.fd_write = (...a) => {
      const rc = fdWrite(...a);
      try {
        flush();
      } catch (err) {
        return toErrno(err); // e.g. EPIPE: the reader went away
      }
      return rc;
    };
  }
  if (base) wrapStdin(functions, base, config);
  return {
    functions,
    run(instance, body) {
      // Binds wasmer to the guest's memory; it refuses a module it made no imports for.
      if (linked) wasi.instantiate(instance, {});
      body();
    },
    flush,
    dispose: () => wasi.free(),
  };
}

/** @wasmer/wasi's preview1 functions for `module`. It works out the WASI version from the
 *  module's imports and throws when there are none, so a command that imports no WASI at all
 *  (possible, if useless) gets undefined; checkImports() reports any import still missing. */
function wasmerFunctions(wasi: WASI, module: WebAssembly.Module): WasiFunctions | undefined {
  if (!WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1')) return undefined;
  try {
    return ((wasi.getImports(module) as { wasi_snapshot_preview1?: WasiFunctions }).wasi_snapshot_preview1 ?? {}) as WasiFunctions;
  } catch (err) {
    throw new WasmloopError('ERR_WASMLOOP_IMPORT', `@wasmer/wasi cannot link the module: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}`, { cause: err });
  }
}

/** Serves fd_read on fd 0 from the host's stdin as the guest asks (wasmer's own stdin is a
 *  buffer that must be filled before the guest starts). Once the guest closes or renumbers
 *  fd 0, it is wasmer's again. */
function wrapStdin(functions: WasiFunctions, base: WasiFunctions, config: BackendConfig): void {
  let hostStdin = true;
  const { fd_read: fdRead, fd_close: fdClose, fd_renumber: fdRenumber } = base;
  if (fdRead) {
    functions.fd_read = (fd, iovs, count, nread) =>
      fd === 0 && hostStdin
        ? readIntoIovecs(config.memory(), config.stdin, Number(iovs) >>> 0, Number(count) >>> 0, Number(nread) >>> 0)
        : fdRead(fd, iovs, count, nread);
  }
  if (fdClose) {
    functions.fd_close = (fd) => {
      if (fd === 0) hostStdin = false;
      return fdClose(fd);
    };
  }
  if (fdRenumber) {
    functions.fd_renumber = (from, to) => {
      if (from === 0 || to === 0) hostStdin = false;
      return fdRenumber(from, to);
    };
  }
}

function nodeBackend(config: BackendConfig): Backend {
  const wasi = createNodeWasi(config);
  const functions = { ...wasi.functions } as WasiFunctions;
  for (const name of ['fd_read', 'fd_write'] as const) {
    const fn = functions[name];
    if (fn) functions[name] = retryStdioEagain(fn);
  }
  return {
    functions,
    run: (instance, body) => wasi.run(instance.exports.memory as WebAssembly.Memory, body),
    flush: () => {}, // node:wasi writes straight to the host fds
    dispose: () => {},
  };
}

// --- running ---------------------------------------------------------------------------------

/** AssemblyScript's runtime imports, as a wasmloop guest gets them (host/instance.ts). */
function runtimeImports(memory: () => ArrayBuffer, stderr: number): Record<string, (...args: number[]) => number | void> {
  const text = (ptr: number) => readAsString(memory(), ptr);
  return {
    abort: (msg, file, line, col) => {
      throw new GuestTrap(`abort: ${text(msg) || 'no message'} at ${text(file) || '?'}:${line}:${col}`);
    },
    trace: (msg, n, ...args) => {
      writeBlocking(stderr, Buffer.from(`trace: ${text(msg)}${n > 0 ? ' ' + args.slice(0, n).join(', ') : ''}\n`));
    },
    seed: () => Date.now() * Math.random(),
  };
}

/** Refuses, before instantiating, an import neither WASI preview1 nor the runtime provides. */
function checkImports(module: WebAssembly.Module, imports: Record<string, Record<string, unknown>>): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imports[imp.module]?.[imp.name] !== undefined) continue;
    const hint = imp.module === 'wasi_snapshot_preview1' ? '' : ' (a WASI command may import only wasi_snapshot_preview1)';
    throw new WasmloopError('ERR_WASMLOOP_IMPORT', `module imports ${imp.module}.${imp.name}, which this host does not provide${hint}`);
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

async function instantiate(module: WebAssembly.Module, imports: WebAssembly.Imports): Promise<WebAssembly.Instance> {
  try {
    return await WebAssembly.instantiate(module, imports);
  } catch (err) {
    if (!(err instanceof WebAssembly.LinkError)) throw err;
    throw new WasmloopError('ERR_WASMLOOP_IMPORT', `module cannot be linked: ${err.message}`, { cause: err });
  }
}

/**
 * Runs a WASI preview1 command module to completion; resolves to its exit status: the code it
 * passed to proc_exit, 0 when _start returns, TRAP_STATUS after a trap (reported as one line,
 * `wasmloop: guest trapped: <message>`, on the guest's stderr fd after its own output).
 * Errors that are the caller's (WasmloopError): ERR_WASMLOOP_NOT_COMMAND, ERR_WASMLOOP_DIR,
 * ERR_WASMLOOP_USAGE (a bad backend, or dirs with the wasmer backend), ERR_WASMLOOP_IMPORT.
 */
export async function runCommand(module: WebAssembly.Module, opts: CommandOptions): Promise<number> {
  checkCommand(module);
  const backendName = chooseBackend(opts.backend, opts.dirs);
  const preopens = resolveDirs(opts.dirs);
  const stdio: Stdio = { stdin: opts.stdin ?? 0, stdout: opts.stdout ?? 1, stderr: opts.stderr ?? 2 };
  let instance: WebAssembly.Instance | undefined;
  const memory = () => (instance?.exports.memory as WebAssembly.Memory | undefined)?.buffer ?? new ArrayBuffer(0);
  const config: BackendConfig = { ...stdio, args: opts.args, env: opts.env, preopens, memory };
  const backend = backendName === 'node' ? nodeBackend(config) : await wasmerBackend(module, config);
  try {
    let exited: number | undefined;
    const procExit = (code: number | bigint) => {
      // Recorded as well as thrown: a guest with wasm exception handling could catch the throw.
      exited ??= Number(code);
      throw new ProcExit(exited);
    };
    const imports = {
      wasi_snapshot_preview1: { ...backend.functions, proc_exit: procExit },
      env: runtimeImports(memory, stdio.stderr),
    };
    checkImports(module, imports);
    let trap: string | undefined;
    try {
      instance = await instantiate(module, imports);
      runEntryPoints(backend, instance);
    } catch (err) {
      if (!(err instanceof ProcExit) && exited === undefined) {
        trap = trapMessage(err);
        if (trap === undefined) throw err;
      }
    }
    flushQuietly(backend);
    if (trap === undefined) return exitStatus(exited ?? 0);
    writeQuietly(stdio.stderr, `wasmloop: guest trapped: ${trap}\n`);
    return TRAP_STATUS;
  } finally {
    backend.dispose();
  }
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
