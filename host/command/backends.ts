/**
 * The two WASI preview1 backends for commands (host/command/command.ts), and the functions wasmloop
 * puts between either of them and the guest, so both behave the same where they can:
 *   wasmer  @wasmer/wasi: the guest's filesystem is an empty in-memory one (the default when
 *           no directory is preopened). Its stdout/stderr are buffers, drained after every
 *           fd_write; its stdin is a buffer too, so fd 0 is read from the host here instead.
 *   node    node:wasi (uvwasi): maps real host directories; reads and writes the host fds.
 * On both: poll_oneoff is wasmloop's own (host/command/poll.ts), fd_close/fd_renumber keep
 * track of which fds are still the host's stdio, every i32 argument is read as the u32
 * preview1 declares it (stdio.ts, withUnsignedArgs), and the guest's descriptor numbers are
 * wasmloop's (fd-table.ts), so preopened listeners and accepted sockets (sockets.ts) sit
 * beside the backend's files.
 */
import { WASI } from '@wasmer/wasi';
import { createNodeWasi } from './nodewasi.ts';
import { FdTable, guestFunctions } from './fd-table.ts';
import { createPollOneoff } from './poll.ts';
import { withDotEntries } from './readdir.ts';
import { applySpecFixes } from './spec-fixes.ts';
import { HostReadiness } from './ready.ts';
import { Socket, type SocketHost } from './socket-io.ts';
import { CommandSockets } from './sockets.ts';
import {
  readIntoIovecs,
  retryStdioEagain,
  StdioFds,
  toErrno,
  withUnsignedArgs,
  writeBlocking,
  type Stdio,
  type WasiFunction,
  type WasiFunctions,
} from './stdio.ts';
import { WasmloopError } from '../errors.ts';
import { initWasi } from '../guest/wasi.ts';
import type { Fd } from '../kernel/contract.ts';
import { loadNative } from '../kernel/native.ts';

export type WasiBackendName = 'wasmer' | 'node';

export interface BackendConfig extends Stdio {
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, string>;
  memory: () => ArrayBuffer;
  /** Host listening sockets, preopened as guest fds 3, 4, ... (closed at dispose). */
  listeners: Fd[];
  /** Accepted sockets open at once, at most. */
  maxConnections: number;
}

/** One WASI context, whichever implementation provides it. */
export interface Backend {
  /** The wasi_snapshot_preview1 functions the guest imports. */
  functions: WasiFunctions;
  /** Binds the context to the instance's memory, then calls `body` (the guest's entry points). */
  run(instance: WebAssembly.Instance, body: () => void): void;
  /** Moves output still buffered in the context to the host fds. */
  flush(): void;
  dispose(): void;
}

export async function createBackend(
  name: WasiBackendName,
  module: WebAssembly.Module,
  config: BackendConfig,
): Promise<Backend> {
  const stdio = new StdioFds(config);
  const backend =
    name === 'node' ? nodeBackend(config) : await wasmerBackend(module, config, stdio);
  const base = backend.functions;
  const tracked: WasiFunctions = { ...base };
  stdio.track(tracked);
  applySpecFixes(tracked, stdio);
  if (tracked.fd_readdir) tracked.fd_readdir = withDotEntries(tracked.fd_readdir, config.memory);
  const net = commandSockets(config, name === 'node' ? Object.keys(config.preopens).length : 1);
  stdio.onRelease = (hostFd) => net.readiness.forget(hostFd);
  const functions = {
    ...guestFunctions(tracked, net.table, config.memory, net.sockets.onSocket, (s) =>
      net.sockets.close(s),
    ),
    ...net.sockets.functions(),
  };
  for (const [name, write] of [
    ['fd_read', false],
    ['fd_write', true],
  ] as const) {
    const slow = functions[name];
    if (slow) functions[name] = net.sockets.fdIo(write, slow);
  }
  functions.poll_oneoff = createPollOneoff({
    memory: config.memory,
    stdio,
    backend: base,
    fds: net.table,
    sockets: { host: net.host, atLimit: () => net.sockets.atLimit() },
    readiness: net.readiness,
  });
  return {
    ...backend,
    functions: withUnsignedArgs(functions),
    dispose() {
      net.readiness.close(); // first: closing the epoll fd drops every registration at once
      net.sockets.closeAll();
      backend.dispose();
    },
  };
}

/** The command's sockets: its listeners as guest fds 3, 4, ... before the backend's
 *  `backendPreopens` directories, and one epoll instance for every wait. */
function commandSockets(config: BackendConfig, backendPreopens: number) {
  const readiness = new HostReadiness();
  const listeners = config.listeners.map((fd) => new Socket(fd, true, false));
  const table = new FdTable(listeners, backendPreopens);
  // The shim is loaded only when there are sockets: a command without them needs no kernel.
  // Every socket comes from a listener, so with listeners it is a plain property (the socket
  // calls read it per message; a getter there cost a generic property load each time).
  const memory = config.memory;
  const host: SocketHost =
    listeners.length > 0
      ? { kernel: loadNative(), readiness, memory }
      : {
          get kernel() {
            return loadNative();
          },
          readiness,
          memory,
        };
  const sockets = new CommandSockets(host, table, config.maxConnections);
  return { readiness, table, host, sockets };
}

async function wasmerBackend(
  module: WebAssembly.Module,
  config: BackendConfig,
  stdio: StdioFds,
): Promise<Backend> {
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
  if (base?.fd_write) functions.fd_write = flushingWrite(base.fd_write, flush);
  if (base?.fd_read) functions.fd_read = stdinRead(base.fd_read, stdio, config.memory);
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

/** Drains wasmer's output buffers after every write (not only fds 1 and 2: a renumbered stdout
 *  still lands in wasmer's buffer), so output is live and stdout/stderr interleave in the
 *  order written. */
function flushingWrite(fdWrite: WasiFunction, flush: () => void): WasiFunction {
  return (...a) => {
    const rc = fdWrite(...a);
    try {
      flush();
    } catch (err) {
      return toErrno(err); // e.g. EPIPE: the reader went away
    }
    return rc;
  };
}

/** fd 0 is read from the host's stdin as the guest asks (wasmer's own stdin is a buffer that
 *  must be filled before the guest starts); once the guest closes or renumbers fd 0, it is
 *  wasmer's again. */
function stdinRead(fdRead: WasiFunction, stdio: StdioFds, memory: () => ArrayBuffer): WasiFunction {
  return (fd, iovs, count, nread) => {
    const host = stdio.hostFd(Number(fd));
    return fd === 0 && host !== undefined
      ? readIntoIovecs(memory(), host, Number(iovs), Number(count), Number(nread))
      : fdRead(fd, iovs, count, nread);
  };
}

/** @wasmer/wasi's preview1 functions for `module`. It works out the WASI version from the
 *  module's imports and throws when there are none, so a command that imports no WASI at all
 *  (possible, if useless) gets undefined; checkImports() reports any import still missing. */
function wasmerFunctions(wasi: WASI, module: WebAssembly.Module): WasiFunctions | undefined {
  if (!WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1'))
    return undefined;
  try {
    return ((wasi.getImports(module) as { wasi_snapshot_preview1?: WasiFunctions })
      .wasi_snapshot_preview1 ?? {}) as WasiFunctions;
  } catch (err) {
    throw new WasmloopError(
      'ERR_WASMLOOP_IMPORT',
      `@wasmer/wasi cannot link the module: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}`,
      { cause: err },
    );
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
