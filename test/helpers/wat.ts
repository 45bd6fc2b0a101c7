/**
 * Guests written in WebAssembly text, compiled with binaryen (already a dependency of the
 * AssemblyScript toolchain): for tests that need exact control over what a guest passes to
 * the host, down to addresses no compiler would produce.
 */
import binaryen from 'binaryen';

/** Compiles WebAssembly text to a module; throws with binaryen's message on a syntax error.
 *  `features`: binaryen's feature flags beyond the MVP (e.g. binaryen.Features.All for
 *  exception handling). */
export function wat(text: string, features?: number): WebAssembly.Module {
  const m = binaryen.parseText(text);
  if (features !== undefined) m.setFeatures(features);
  try {
    return new WebAssembly.Module(new Uint8Array(m.emitBinary())); // a copy over a plain ArrayBuffer
  } finally {
    m.dispose();
  }
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
