/**
 * Capping a guest's memory. A guest defines and exports its own memory, so the host cannot
 * wrap it; instead it rewrites the maximum in the module's memory section before compiling.
 * `memory.grow` past the cap then returns -1 inside the guest, which the guest core treats as
 * "no buffer available" (the connection that needed one is closed), rather than the process
 * growing without bound.
 *
 * Binary layout touched (WebAssembly core spec, 5.5.8 memory section, 5.3.8 limits):
 *   section 5: size:u32  count:u32  (limits)*
 *   limits:    0x00 min:u32 | 0x01 min:u32 max:u32      (0x02/0x03 shared, 0x04+ memory64)
 * All integers are unsigned LEB128.
 */
import { WasmloopError } from './errors.ts';

export const PAGE = 65536;
const MEMORY_SECTION = 5;

/** Returns the module bytes with its memory's maximum lowered to `maxBytes` (rounded down to
 *  pages). A module without a memory section is returned unchanged. Throws ERR_WASMLOOP_MEMORY
 *  when the module needs more than the cap at start, or uses a memory kind this cannot cap. */
export function capMemory(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const maxPages = Math.floor(maxBytes / PAGE);
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, sizeEnd] = readLeb(bytes, at + 1);
    const end = sizeEnd + size;
    if (end > bytes.length) return bytes; // malformed: let the compiler report it
    if (id === MEMORY_SECTION) return replaceSection(bytes, at, end, capSection(bytes.subarray(sizeEnd, end), maxPages));
    at = end;
  }
  return bytes;
}

function capSection(payload: Uint8Array, maxPages: number): number[] {
  const [count, countEnd] = readLeb(payload, 0);
  if (count !== 1) throw new WasmloopError('ERR_WASMLOOP_MEMORY', `guest defines ${count} memories; only one can be capped`);
  const flags = payload[countEnd]!;
  if (flags > 1) throw new WasmloopError('ERR_WASMLOOP_MEMORY', 'guest memory is shared or 64-bit; max-memory-size cannot cap it');
  const [min, minEnd] = readLeb(payload, countEnd + 1);
  const max = flags === 1 ? readLeb(payload, minEnd)[0] : Infinity;
  if (min > maxPages) {
    throw new WasmloopError('ERR_WASMLOOP_MEMORY', `guest needs ${min * PAGE} bytes of memory at start; max-memory-size is ${maxPages * PAGE}`);
  }
  return [...writeLeb(1), 0x01, ...writeLeb(min), ...writeLeb(Math.min(max, maxPages))];
}

function replaceSection(bytes: Uint8Array, start: number, end: number, payload: number[]): Uint8Array {
  const head = [MEMORY_SECTION, ...writeLeb(payload.length)];
  const out = new Uint8Array(start + head.length + payload.length + (bytes.length - end));
  out.set(bytes.subarray(0, start), 0);
  out.set(head, start);
  out.set(payload, start + head.length);
  out.set(bytes.subarray(end), start + head.length + payload.length);
  return out;
}

/** Reads an unsigned LEB128 u32 at `at`: [value, offset after it]. */
function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const b = bytes[at++];
    if (b === undefined) return [value, at];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  return [value, at];
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}
