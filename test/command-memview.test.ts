/**
 * host/command/memview.ts: the command's memory buffer and its views are kept between calls
 * and must follow a memory.grow, which detaches the buffer they were made over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytesOf, memoryBuffer, viewOf } from '../host/command/memview.ts';

const PAGE = 65536;

test('memoryBuffer keeps the buffer until memory.grow detaches it, then reads the new one', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const instance = { exports: { memory } } as unknown as WebAssembly.Instance;
  let asked = 0;
  const buffer = memoryBuffer(() => (asked++, instance));
  assert.is(buffer(), buffer());
  assert.is(buffer().byteLength, PAGE);
  assert.is(asked, 1, 'the instance is asked once while the buffer stays attached');
  memory.grow(1);
  assert.is(buffer(), memory.buffer);
  assert.is(buffer().byteLength, 2 * PAGE);
  assert.is(viewOf(buffer()).byteLength, 2 * PAGE, 'a view over the grown buffer');
  assert.is(bytesOf(buffer()).length, 2 * PAGE);
});

test('memoryBuffer is empty before the instance exists, and a shared memory is read each call', () => {
  let instance: WebAssembly.Instance | undefined;
  const buffer = memoryBuffer(() => instance);
  assert.is(buffer().byteLength, 0);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  instance = { exports: { memory } } as unknown as WebAssembly.Instance;
  assert.is(buffer().byteLength, PAGE);
  memory.grow(1); // a shared buffer is not detached: only asking again sees the growth
  assert.is(buffer().byteLength, 2 * PAGE);
});

test.run();
