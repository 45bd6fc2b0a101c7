/**
 * Guests written in WebAssembly text, compiled with binaryen (already a dependency of the
 * AssemblyScript toolchain): for tests that need exact control over what a guest passes to
 * the host, down to addresses no compiler would produce. binaryen runs on a thread of its own
 * without tsx (test/helpers/wat-worker.mjs): under tsx, importing it took 10 s of the suite.
 */
import { Worker } from 'node:worker_threads';

/** binaryen's feature names (binaryen.Features), beyond the MVP. */
export type WatFeature =
  'All' | 'BulkMemory' | 'ExceptionHandling' | 'MVP' | 'ReferenceTypes' | 'SignExt';

const MAX_MODULE = 1 << 20;
let compiler: { worker: Worker; ctrl: Int32Array; data: Uint8Array } | null = null;

/** The compiler thread (test/helpers/wat-worker.mjs), started on first use. */
function compilerThread() {
  if (compiler !== null) return compiler;
  const ctrl = new Int32Array(new SharedArrayBuffer(8));
  const data = new Uint8Array(new SharedArrayBuffer(MAX_MODULE));
  const worker = new Worker(new URL('./wat-worker.mjs', import.meta.url), {
    execArgv: [], // no tsx: see wat-worker.mjs
    workerData: { binaryen: import.meta.resolve('binaryen'), ctrl: ctrl.buffer, data: data.buffer },
  });
  worker.unref();
  return (compiler = { worker, ctrl, data });
}

/** WebAssembly text compiled to binary by binaryen with these features; throws binaryen's
 *  message on a syntax error. Synchronous: waits for the compiler thread's answer. */
export function watBytes(text: string, features: WatFeature[] = ['MVP']): Uint8Array<ArrayBuffer> {
  const { worker, ctrl, data } = compilerThread();
  Atomics.store(ctrl, 0, 0);
  worker.postMessage({ text, features });
  if (Atomics.wait(ctrl, 0, 0, 60_000) === 'timed-out') throw new Error('wat: no answer in 60 s');
  const n = Atomics.load(ctrl, 1);
  if (n < 0) throw new Error(`wat: ${Buffer.from(data.subarray(0, -n)).toString()}`);
  const bytes = new Uint8Array(n); // a copy over a plain ArrayBuffer
  bytes.set(data.subarray(0, n));
  return bytes;
}

/** Compiles WebAssembly text to a module (watBytes, then WebAssembly.Module). */
export function wat(text: string, features?: WatFeature[]): WebAssembly.Module {
  return new WebAssembly.Module(watBytes(text, features));
}

export interface ProbeLayout {
  /** What wl_events_ptr / wl_events_cap / wl_stats_ptr return (u32, written as i32). */
  eventsPtr?: number;
  eventsCap?: number;
  statsPtr?: number;
}

/**
 * A guest that does nothing on its own and re-exports the hostcalls as `call_<name>`, so a
 * test can call them with any argument; `adopted()` is the last handle wl_adopt received.
 * Memory: one page (64 KiB).
 */
export function probeGuest(layout: ProbeLayout = {}): WebAssembly.Module {
  const i32 = (v: number) => `(i32.const ${v | 0})`;
  return wat(`(module
  (import "wasmloop" "recv" (func $recv (param i32 i32 i32) (result i32)))
  (import "wasmloop" "send" (func $send (param i32 i32 i32) (result i32)))
  (import "wasmloop" "recv_many" (func $recv_many (param i32 i32 i32 i32) (result i32)))
  (import "wasmloop" "send_many" (func $send_many (param i32 i32) (result i32)))
  (import "wasmloop" "limit" (func $limit (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (global $adopted (mut i32) (i32.const 0))
  (func (export "wl_abi_version_1"))
  (func (export "wl_init") (result i32) (i32.const 0))
  (func (export "wl_events_ptr") (result i32) ${i32(layout.eventsPtr ?? 1024)})
  (func (export "wl_events_cap") (result i32) ${i32(layout.eventsCap ?? 16)})
  (func (export "wl_stats_ptr") (result i32) ${i32(layout.statsPtr ?? 2048)})
  (func (export "wl_dispatch") (param i32 f64) (result i32) (i32.const -1))
  (func (export "wl_shutdown"))
  (func (export "wl_adopt") (param i32 i32 f64) (result i32)
    (global.set $adopted (local.get 0)) (i32.const 0))
  (func (export "adopted") (result i32) (global.get $adopted))
  (export "call_recv" (func $recv))
  (export "call_send" (func $send))
  (export "call_recv_many" (func $recv_many))
  (export "call_send_many" (func $send_many))
  (export "call_limit" (func $limit)))`);
}
