/**
 * `runCommand` as the package exports it (docs/EMBEDDING.md, "WASI commands"): a WASI command
 * run from a Node program on a worker thread of its own, so the program's event loop keeps
 * running. Resolves to the exit status; an AbortSignal stops it (abort.ts says how) and the
 * promise then rejects with an AbortError, as Node's own APIs do, once every socket the command
 * held is closed.
 */
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ListenAddress } from '../address.ts';
import { fromWorkerError, type WorkerError } from '../driver/worker-protocol.ts';
import { WasmloopError } from '../errors.ts';
import type { Fd } from '../kernel/contract.ts';
import { loadNative } from '../kernel/native.ts';
import { checkLimits, effectiveLimits } from '../limits.ts';
import { loadModule, type ModuleSource } from '../module.ts';
import { leftOpen, newAbortShared, requestAbort, type AbortShared } from './abort.ts';
import { checkCommand, type CommandOptions } from './command.ts';

export interface RunCommandOptions extends Partial<Omit<CommandOptions, 'onListening'>> {
  /** A path, the bytes, or a WebAssembly.Module (compiled with the memory caps of `limits`). */
  module: ModuleSource;
  /** Called once the listeners are bound, before the command starts. */
  onListening?: (addresses: ListenAddress[]) => void;
  /** Stops the command; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** How long an aborted command has to notice before its thread is terminated. */
const ABORT_GRACE_MS = 500;

/** What the main thread hands the command's thread. */
export interface CommandWorkerInit {
  module: WebAssembly.Module;
  options: Omit<CommandOptions, 'onListening'>;
  shared: AbortShared;
}

export type FromCommandWorker =
  | { type: 'listening'; addresses: ListenAddress[] }
  | { type: 'exit'; status: number }
  | { type: 'aborted' }
  | { type: 'failed'; error: WorkerError };

/**
 * Runs a WASI preview1 command module on a worker thread; resolves to its exit status.
 * Rejects with a WasmloopError for what runCommand refuses (ERR_WASMLOOP_NOT_COMMAND,
 * ERR_WASMLOOP_IMPORT, ERR_WASMLOOP_DIR, ERR_WASMLOOP_USAGE, ERR_WASMLOOP_LISTEN, ...), and with
 * an AbortError (name 'AbortError', code 'ABORT_ERR', cause the signal's reason) when `signal`
 * stops it.
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { module: source, signal, onListening, ...rest } = options;
  if (signal?.aborted) throw abortError(signal);
  const limits = rest.limits ?? {};
  const module = await loadModule(source, effectiveLimits(checkLimits(limits)));
  checkCommand(module);
  const name = typeof source === 'string' ? basename(source) : 'command.wasm';
  const init: CommandWorkerInit = {
    module,
    options: { ...rest, args: rest.args ?? [name], env: rest.env ?? {}, dirs: rest.dirs ?? [] },
    shared: newAbortShared(),
  };
  return supervise(startWorker(init), init.shared, { signal, onListening });
}

function supervise(
  worker: Worker,
  shared: AbortShared,
  opts: Pick<RunCommandOptions, 'signal' | 'onListening'>,
): Promise<number> {
  let outcome: FromCommandWorker | undefined;
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;
  const abort = () => {
    aborted = true;
    requestAbort(shared);
    timer = setTimeout(() => void worker.terminate(), ABORT_GRACE_MS);
  };
  opts.signal?.addEventListener('abort', abort, { once: true });
  return new Promise<number>((resolve, reject) => {
    worker.on('message', (m: FromCommandWorker) => {
      if (m.type === 'listening') opts.onListening?.(m.addresses);
      else outcome = m;
    });
    worker.on('error', (err) => (outcome ??= { type: 'failed', error: workerError(err) }));
    worker.on('exit', () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      closeLeftOpen(shared);
      if (outcome?.type === 'exit') resolve(outcome.status);
      else if (aborted) reject(abortError(opts.signal!));
      else if (outcome?.type === 'failed') reject(fromWorkerError(outcome.error));
      else reject(new WasmloopError('ERR_WASMLOOP_WORKER', "the command's thread ended early"));
    });
  });
}

function workerError(err: Error): WorkerError {
  return { code: 'ERR_WASMLOOP_WORKER', message: err.message };
}

/** After the thread has ended: what a terminated command could not close itself. */
function closeLeftOpen(shared: AbortShared): void {
  const fds = leftOpen(shared);
  if (fds.length === 0) return;
  const kernel = loadNative();
  for (const fd of fds) kernel.close(fd as Fd);
}

/** Node's AbortError, as fs, timers/promises and events reject with. */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

/** The thread, from dist/ (the built package) or from the TypeScript sources (tests). */
function startWorker(init: CommandWorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./command-worker.js', import.meta.url), { workerData: init });
  // Loader hooks do not reach worker threads in Node 20: the thread registers tsx itself.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  const code = `import(${tsx}).then((m) => { m.register(); return import(${entry}); });`;
  return new Worker(code, { eval: true, workerData: init });
}
