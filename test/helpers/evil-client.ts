/**
 * What the tests of wasm/test/evil.wasm (test/guests/evil.ts) over real sockets share: the
 * module's path and a check that a connection still echoes.
 */
import * as assert from 'uvu/assert';
import type { RawClient } from './net-tcp.ts';

export const EVIL = 'wasm/test/evil.wasm';

/** The connection still echoes (and so the instance is alive). */
export async function echoes(c: RawClient, text = 'still here'): Promise<void> {
  await c.write(text + '\n');
  assert.is((await c.read(text.length + 1)).toString(), text + '\n', 'echo');
}
