/**
 * What a guest can name, over the simulated kernel with build/test/hoarder.wasm (a guest that
 * lets the test make single hostcalls): the `limit` hostcall answers only the limits it was
 * given.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { simLoop, type SimLoop } from './helpers/sim.ts';

const test = suite('handles');

export interface HoarderExports {
  memory: WebAssembly.Memory;
  scratch(): number;
  limit_of(len: number): number;
  send_text(handle: number, len: number): number;
  accept_once(listener: number): number;
  close_handle(handle: number): number;
  accept_at(depth: number, listener: number): number;
  close_at(depth: number, handle: number): number;
}

export function hoarder(s: SimLoop): HoarderExports {
  return s.loop.instance!.exports as unknown as HoarderExports;
}

/** Writes `text` at the guest's scratch area; returns its length in bytes. */
function put(g: HoarderExports, text: string): number {
  const bytes = Buffer.from(text);
  new Uint8Array(g.memory.buffer, g.scratch(), bytes.length).set(bytes);
  return bytes.length;
}

test('limit: names inherited from Object.prototype are not limits (-1, not NaN)', async () => {
  const s = await simLoop('test/hoarder', { limits: { 'max-connections': 7 } });
  const g = hoarder(s);
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'idle-timeout-ms']) {
    assert.is(g.limit_of(put(g, name)), -1, name);
  }
  assert.is(g.limit_of(put(g, 'max-connections')), 7);
});

test.run();
