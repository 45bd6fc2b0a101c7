/**
 * The exports of wasm/test/hoarder.wasm (test/guests/hoarder.ts), a hostile guest whose
 * exports let a test make single hostcalls, some at the bottom of deep recursion.
 */
import type { SimLoop } from './sim.ts';

export interface HoarderExports {
  memory: WebAssembly.Memory;
  scratch(): number;
  limit_of(len: number): number;
  send_text(handle: number, len: number): number;
  accept_once(listener: number): number;
  close_handle(handle: number): number;
  held(i: number): number;
  accept_at(depth: number, listener: number): number;
  close_at(depth: number, handle: number): number;
}

/** The handle of listener 0: the first handle an instance issues. */
export const LISTENER = 1;

/** The hoarder instance a loop runs now. */
export function hoarder(s: Pick<SimLoop, 'loop'>): HoarderExports {
  return s.loop.instance!.exports as unknown as HoarderExports;
}
