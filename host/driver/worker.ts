/**
 * The entry of one worker thread of a pool (host/driver/workers.ts): a NativeLoop on this thread's
 * own libuv loop, with its own epoll fd and guest instance, over listening sockets the pool
 * owns. It publishes its counters and its "busy since" time into shared memory, which is all
 * the pool reads synchronously; everything else is messages. With `trial` in its workerData it
 * is a pool's trial thread instead (host/driver/trial-thread.ts).
 */
import { performance } from 'node:perf_hooks'; // the global one is a getter, paid on every read
import { parentPort, workerData } from 'node:worker_threads';
import { Handoff } from './handoff.ts';
import { usesWasi } from '../module.ts';
import { loadNative, type NativeKernel } from '../kernel/native.ts';
import { NativeLoop } from './native-loop.ts';
import { initWasi } from '../guest/wasi.ts';
import { REGISTRY_PARTS } from '../guest/retiring.ts';
import { serveTrials } from './trial-thread.ts';
import {
  BUSY_SLOT,
  publishStats,
  splitRegistry,
  toWorkerError,
  type ToPool,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.ts';

/** How often the counters are copied to shared memory; stats() in the pool lags by this much. */
const PUBLISH_MS = 50;

const init = workerData as WorkerInit;
const port = parentPort!;
const shared = new Float64Array(init.stats);
const registry = new Int32Array(init.registry);
const post = (msg: ToPool) => port.postMessage(msg);
/** Busy-since is wall-clock ms (this thread's time origin plus its monotonic clock), the
 *  scale the pool compares it on. Marked around every guest call, so kept cheap. */
const ORIGIN = performance.timeOrigin;

/** This thread's loop over the pool's listeners, its fds mirrored in the shared registry. */
function startLoop(native: NativeKernel): NativeLoop {
  return new NativeLoop({
    native,
    module: init.module,
    fds: init.fds,
    addresses: init.addresses,
    ownsListeners: false,
    driver: init.driver,
    maxRestarts: init.maxRestarts,
    limits: init.limits,
    args: init.args,
    env: init.env,
    registry: splitRegistry(registry).tables,
    registryParts: REGISTRY_PARTS,
    handoff: new Handoff(splitRegistry(registry).handoff),
    onTrap: (err, restarting) => post({ type: 'trap', message: err.message, restarting }),
    // `nowMs`, when given, is the loop's own performance.now() reading: one clock read less per dispatch.
    onBusy: (busy, nowMs) => {
      shared[BUSY_SLOT] = busy ? ORIGIN + (nowMs ?? performance.now()) : 0;
    },
  });
}

/** Reloads this thread's loop to a module its pool prepared; answers `reloaded`. */
async function reload(loop: NativeLoop, msg: Extract<ToWorker, { type: 'reload' }>): Promise<void> {
  try {
    if (usesWasi(msg.module)) await initWasi();
    loop.reloadPrepared(msg.module, msg.limits, msg.drainMs);
    post({ type: 'reloaded', id: msg.id });
  } catch (err) {
    post({ type: 'reloaded', id: msg.id, error: toWorkerError(err) });
  }
}

async function main(): Promise<void> {
  const native = loadNative();
  if (usesWasi(init.module)) await initWasi();
  const loop = startLoop(native);
  const publish = () => publishStats(shared, loop.loopMetrics());
  const timer = setInterval(publish, PUBLISH_MS);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'close') void loop.close({ graceMs: msg.graceMs });
    else void reload(loop, msg);
  });
  post({ type: 'ready' });
  try {
    await loop.done;
    publish();
    post({ type: 'closed' });
  } catch (err) {
    publish();
    post({ type: 'closed', error: toWorkerError(err) });
  } finally {
    clearInterval(timer);
    port.close();
  }
}

if ((workerData as { trial?: boolean }).trial) serveTrials();
else
  main().catch((err: unknown) => {
    post({ type: 'failed', error: toWorkerError(err) });
    port.close();
  });
