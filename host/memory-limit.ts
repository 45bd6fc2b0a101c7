/**
 * Capping what a guest can grow: its memory and its tables. A guest defines its own memory and
 * tables (imported ones are refused by checkGuest, host/module.ts), so the host cannot wrap
 * them; instead it rewrites their maxima in the module before compiling. `memory.grow` or
 * `table.grow` past the cap then returns -1 inside the guest, rather than the process growing
 * without bound (a funcref table element costs the host memory outside the guest's).
 *
 * Binary layout touched (WebAssembly core spec 5.5.7 table section, 5.5.8 memory section,
 * 5.3.8 limits, 5.3.9/5.3.10 table and memory types):
 *   section 4: size:u32  count:u32  (reftype limits)*      reftype 0x70 funcref | 0x6F externref
 *   section 5: size:u32  count:u32  (limits)*
 *   limits:    0x00 min:u32 | 0x01 min:u32 max:u32   (0x02/0x03 shared, 0x04+ 64-bit indices)
 * All integers are unsigned LEB128. Any other encoding (a newer proposal) is refused, never
 * passed through uncapped.
 */
import { WasmloopError } from './errors.ts';
import {
  ByteReader,
  Malformed,
  readSections,
  replaceSections,
  writeU32,
  type Section,
} from './wasm-binary.ts';

export const PAGE = 65536;
/** A 32-bit memory has at most 2^16 pages (4 GiB); a larger cap is the same as this one. */
const MAX_PAGES = 65536;
/** Table sizes are u32s. */
const MAX_ELEMENTS = 0xffffffff;
const TABLE_SECTION = 4;
const MEMORY_SECTION = 5;
const FUNCREF = 0x70;
const EXTERNREF = 0x6f;

/** What the host lets a guest hold: bytes of linear memory, and table elements summed over
 *  all its tables. */
export interface GuestCaps {
  maxMemoryBytes: number;
  maxTableElements: number;
}

/** The caps as they can be enforced: memory in whole pages up to 4 GiB, whole elements. */
export function enforceableCaps(caps: GuestCaps): GuestCaps {
  return {
    maxMemoryBytes: Math.min(Math.floor(caps.maxMemoryBytes / PAGE), MAX_PAGES) * PAGE,
    maxTableElements: Math.min(Math.floor(caps.maxTableElements), MAX_ELEMENTS),
  };
}

/** Returns the module bytes with its memory's maximum lowered to `maxMemoryBytes` and its
 *  tables' maxima lowered so that together they hold at most `maxTableElements`. Throws
 *  ERR_WASMLOOP_MEMORY when the module needs more than a cap at start, or uses a memory or
 *  table kind this cannot cap, or cannot be read (call it only on modules that validate). */
export function capGuest(bytes: Uint8Array, caps: GuestCaps): Uint8Array {
  const { maxMemoryBytes, maxTableElements } = enforceableCaps(caps);
  try {
    const replacements = new Map<Section, number[]>();
    for (const section of readSections(bytes)) {
      const payload = new ByteReader(bytes, section.payload, section.end);
      if (section.id === MEMORY_SECTION)
        replacements.set(section, capMemorySection(payload, maxMemoryBytes / PAGE));
      if (section.id === TABLE_SECTION)
        replacements.set(section, capTableSection(payload, maxTableElements));
    }
    return replacements.size === 0 ? bytes : replaceSections(bytes, replacements);
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `cannot cap the guest's memory and tables: ${err.message}`,
      { cause: err },
    );
  }
}

interface Limits {
  min: number;
  max: number; // Infinity when the module declares none
}

function readLimits(r: ByteReader, what: string): Limits {
  const flags = r.byte();
  if (flags > 1)
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `guest ${what} is shared or 64-bit; wasmloop cannot cap it`,
    );
  const min = r.u32();
  return { min, max: flags === 1 ? r.u32() : Infinity };
}

function capMemorySection(r: ByteReader, maxPages: number): number[] {
  const count = r.u32();
  if (count === 0) return [0];
  if (count !== 1)
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `guest defines ${count} memories; only one can be capped`,
    );
  const { min, max } = readLimits(r, 'memory');
  if (!r.done) throw new Malformed('bytes after the memory section');
  if (min > maxPages) {
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `guest needs ${min * PAGE} bytes of memory at start; max-memory-size is ${maxPages * PAGE}`,
    );
  }
  return [1, 0x01, ...writeU32(min), ...writeU32(Math.min(max, maxPages))];
}

/** Every table keeps its initial size. The room left under the cap goes to the tables in the
 *  order the module declares them, each up to its own declared maximum, so the maxima add up
 *  to at most `maxElements` however many tables there are. */
function capTableSection(r: ByteReader, maxElements: number): number[] {
  const count = r.u32();
  const tables: { type: number; limits: Limits }[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.byte();
    if (type !== FUNCREF && type !== EXTERNREF) {
      throw new WasmloopError(
        'ERR_WASMLOOP_MEMORY',
        `guest table ${i} has a type (0x${type.toString(16)}) wasmloop cannot cap`,
      );
    }
    tables.push({ type, limits: readLimits(r, `table ${i}`) });
  }
  if (!r.done) throw new Malformed('bytes after the table section');
  const initial = tables.reduce((n, t) => n + t.limits.min, 0);
  if (initial > maxElements) {
    throw new WasmloopError(
      'ERR_WASMLOOP_MEMORY',
      `guest needs ${initial} table elements at start; max-table-elements is ${maxElements}`,
    );
  }
  let room = maxElements - initial;
  const out = [...writeU32(count)];
  for (const { type, limits } of tables) {
    const max = Math.min(limits.max, limits.min + room);
    room -= max - limits.min;
    out.push(type, 0x01, ...writeU32(limits.min), ...writeU32(max));
  }
  return out;
}
