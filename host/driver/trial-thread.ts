/**
 * A reload's trial start (host/driver/trial.ts), on a thread of its own: the new module is
 * instantiated and its wl_init run over the simulated kernel, with as many listeners as the
 * pool serves and the limits its workers will give it, then dropped. The thread holds no
 * socket and no connection, so when a wl_init runs away the pool terminates it and loses
 * nothing; a trap or a stack overflow is answered as an error. Its WASI output is dropped (the
 * workers' start prints it).
 */
import { parentPort } from 'node:worker_threads';
import { Loop } from '../guest/loop.ts';
import { initWasi } from '../guest/wasi.ts';
import { SimKernel } from '../kernel/sim/kernel.ts';
import { usesWasi } from '../module.ts';
import { toWorkerError, type WorkerError } from './worker-protocol.ts';

/** What the pool asks: start `module` as a worker would. */
export interface TrialRequest {
  id: number;
  module: WebAssembly.Module;
  limits: Record<string, number>;
  listeners: number;
  args: string[];
  env: Record<string, string>;
}

/** `ready` once the thread listens; then one answer per request. */
export type TrialAnswer = { type: 'ready' } | { type: 'tried'; id: number; error?: WorkerError };

/** The thread's entry (host/driver/worker.ts runs it when its workerData says `trial`). */
export function serveTrials(): void {
  const port = parentPort!;
  const post = (a: TrialAnswer) => port.postMessage(a);
  port.on('message', (t: TrialRequest) => {
    tryStart(t).then(
      () => post({ type: 'tried', id: t.id }),
      (err: unknown) => post({ type: 'tried', id: t.id, error: toWorkerError(err) }),
    );
  });
  post({ type: 'ready' });
}

async function tryStart(t: TrialRequest): Promise<void> {
  if (usesWasi(t.module)) await initWasi();
  const kernel = new SimKernel({ seed: 1 });
  const listeners = Array.from({ length: t.listeners }, () =>
    kernel.listen('127.0.0.1', 0, 16, false),
  );
  const quiet = () => {};
  const loop = new Loop({
    module: t.module,
    kernel,
    listeners,
    now: () => kernel.now,
    limits: t.limits,
    wasi: { args: t.args, env: t.env, stdout: quiet, stderr: quiet },
  });
  loop.finish();
}
