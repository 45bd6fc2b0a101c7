// The other half of test/helpers/wat.ts: binaryen on a worker thread that runs without tsx, so
// its 13 MB of JavaScript loads in under a second instead of being transformed for ten.
// Requests arrive as messages; each answer goes into the shared buffer and wakes the caller,
// which waits with Atomics.wait (wat() is synchronous). Answer layout: ctrl[0] 1 = ready,
// ctrl[1] = byte length (>= 0: a module; < 0: -length bytes of an error message).
import { parentPort, workerData } from 'node:worker_threads';

const { default: binaryen } = await import(workerData.binaryen);
const ctrl = new Int32Array(workerData.ctrl);
const data = new Uint8Array(workerData.data);

function answer(bytes, ok) {
  const n = Math.min(bytes.length, data.length);
  data.set(bytes.subarray(0, n));
  Atomics.store(ctrl, 1, ok ? n : -n);
  Atomics.store(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
}

parentPort.on('message', ({ text, features }) => {
  let m;
  try {
    m = binaryen.parseText(text);
    m.setFeatures(features.reduce((all, name) => all | binaryen.Features[name], 0));
    answer(m.emitBinary(), true);
  } catch (err) {
    answer(Buffer.from(String(err?.message ?? err)), false);
  } finally {
    m?.dispose();
  }
});
