/**
 * The thread a command runs on when embedded (host/command/embed.ts): runs it with runCommand
 * and posts how it ended. The main thread can ask it to stop at any wait (abort.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toWorkerError } from '../driver/worker-protocol.ts';
import { CommandAborted, useAbort } from './abort.ts';
import { runCommand } from './command.ts';
import type { CommandWorkerInit, FromCommandWorker } from './embed.ts';

const init = workerData as CommandWorkerInit;
const post = (message: FromCommandWorker) => parentPort!.postMessage(message);

useAbort(init.shared);
try {
  const status = await runCommand(init.module, {
    ...init.options,
    onListening: (addresses) => post({ type: 'listening', addresses }),
  });
  post({ type: 'exit', status });
} catch (err) {
  post(
    err instanceof CommandAborted
      ? { type: 'aborted' }
      : { type: 'failed', error: toWorkerError(err) },
  );
}
