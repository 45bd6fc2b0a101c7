/**
 * The top of an AssemblyScript `stub` runtime heap, read from guest memory, to the byte.
 *
 * The stub runtime never frees: every allocation takes the next block at the end of the heap,
 * a u32 header (`mmInfo`, the payload size, always 12 mod 16) followed by the payload, blocks
 * back to back, nothing ever written past the last one. When it runs out of memory it doubles
 * it, so `memory.byteLength` moves only in big steps and hides a slow leak for a long time;
 * the heap top does not. Walking the block chain from a block known to exist gives the top.
 *
 * `heapAnchor` finds such a block right after start-up: the last block of a chain that ends
 * at the end of the non-zero memory. `heapTop` walks from it later; -1 means the chain is
 * broken there (a header was overwritten: the guest wrote outside its blocks), or there was no
 * anchor (not a stub-runtime heap), in which case callers fall back to `byteLength`.
 */

/** Smallest stub payload: computeSize(0) = ((0 + 4 + 15) & ~15) - 4. */
const MIN_PAYLOAD = 12;

function validHeader(size: number, at: number, limit: number): boolean {
  return size >= MIN_PAYLOAD && (size & 15) === 12 && at + 4 + size <= limit;
}

/** Follows the chain from the header at `at`; returns [last header, end] or undefined. */
function walk(words: Uint32Array, bytes: number, at: number): [number, number] | undefined {
  let last = -1;
  for (let steps = 0; at + 4 <= bytes; steps++) {
    const size = words[at >>> 2]!;
    if (size === 0) return last < 0 ? undefined : [last, at];
    if (!validHeader(size, at, bytes)) return undefined;
    last = at;
    at += 4 + size;
  }
  return at === bytes && last >= 0 ? [last, at] : undefined;
}

/** A block header of the guest's heap right after start-up, or -1 if none is recognisable. */
export function heapAnchor(memory: ArrayBuffer): number {
  const words = new Uint32Array(memory);
  let high = words.length - 1;
  while (high >= 0 && words[high] === 0) high--;
  if (high < 0) return -1;
  const highest = high * 4; // the last non-zero word: the heap's end lies past it
  // Static data can hold a false header (the UTF-16 string ", " reads as a valid size) whose
  // chain jumps over the real heap's end. The real chain stops at the first block boundary
  // past the last non-zero word; a false one overshoots: take the chain that ends first.
  let best = -1;
  let bestEnd = Infinity;
  for (let at = 12; at < highest + 4; at += 16) {
    if (words[at >>> 2] === 0) continue;
    const r = walk(words, memory.byteLength, at);
    if (r !== undefined && r[1] > highest && r[1] < bestEnd) [best, bestEnd] = r;
  }
  return best;
}

/** The heap's end (the next allocation's header address), or -1 (see above). */
export function heapTop(memory: ArrayBuffer, anchor: number): number {
  if (anchor < 0) return -1;
  return walk(new Uint32Array(memory), memory.byteLength, anchor)?.[1] ?? -1;
}
