/**
 * The frame guest (wasm/frame.wasm, assembly/proto/frame.ts): length-prefixed messages, each
 * echoed back whole. Header: the magic "WLF1" (57 4C 46 31), then the payload length as a
 * big-endian u32. A bad magic or a length over max-frame-bytes ends the connection (a protocol
 * error) after the frames before it were echoed.
 *
 * The model runs the guest with a max-frame-bytes limit of FRAME_LIMIT, so that frames larger
 * than the 64 KiB I/O buffers, frames of exactly the limit (accepted) and one byte over it
 * (refused) all occur in ordinary runs without making every seed move megabytes.
 */
import type { Random } from '../../host/kernel/sim/random.ts';
import { concat, randomBytes, weighted, type Exchange, type GuestModel } from './model.ts';

export const FRAME_MAGIC = Uint8Array.of(0x57, 0x4c, 0x46, 0x31);
export const FRAME_HEADER = 8;
/** The guest's default max-frame-bytes. */
export const FRAME_MAX_DEFAULT = 1 << 20;
/** The limit property runs use: over two 64 KiB buffers, well under the default. */
export const FRAME_LIMIT = 150_000;

/** A frame header claiming `length` payload bytes (any u32, even one the guest refuses). */
export function frameHeader(length: number, magic: Uint8Array = FRAME_MAGIC): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER);
  h.set(magic.subarray(0, 4));
  new DataView(h.buffer).setUint32(4, length >>> 0, false);
  return h;
}

/** A whole frame: header and payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  return concat([frameHeader(payload.length), payload]);
}

/** A payload length: mostly small, some around and over 64 KiB, sometimes exactly the limit. */
function frameLength(rng: Random): number {
  const kind = weighted(rng, [
    [30, 'tiny'],
    [25, 'small'],
    [20, 'medium'],
    [15, 'large'],
    [5, 'limit'],
    [5, 'edge'],
  ] as const);
  switch (kind) {
    case 'tiny':
      return rng.int(0, 16);
    case 'small':
      return rng.int(17, 2048);
    case 'medium':
      return rng.int(2049, 65536);
    case 'large':
      return rng.int(65537, FRAME_LIMIT);
    case 'limit':
      return FRAME_LIMIT;
    // Sizes where a frame ends exactly at, or one byte around, a 64 KiB buffer boundary.
    case 'edge':
      return 65536 - FRAME_HEADER + rng.int(-1, 1);
  }
}

/** A header the guest must refuse: a wrong magic byte, or a length over the limit. */
function badHeader(rng: Random): Uint8Array {
  if (rng.next() < 0.5) {
    const magic = FRAME_MAGIC.slice();
    const at = rng.int(0, 3);
    magic[at] = (magic[at]! + rng.int(1, 255)) & 0xff;
    return frameHeader(rng.int(0, 100), magic);
  }
  return frameHeader(rng.next() < 0.5 ? FRAME_LIMIT + 1 : rng.int(FRAME_LIMIT + 1, 0xffffffff));
}

export const frameModel: GuestModel = {
  guest: 'frame',
  about: 'length-prefixed frames ("WLF1" + u32 BE length), each echoed whole',
  limits: { 'max-frame-bytes': FRAME_LIMIT },
  exchange(rng: Random, budget: number): Exchange {
    const frames: Uint8Array[] = [];
    let size = 0;
    while (size < budget || frames.length === 0) {
      // Large frames only when the budget allows them (short-read runs get small ones).
      let n = frameLength(rng);
      if (n > budget) n = rng.int(0, Math.min(budget, 2048));
      frames.push(encodeFrame(randomBytes(rng, n)));
      size += FRAME_HEADER + n;
      if (rng.next() < 0.1) break;
    }
    const output = concat(frames);
    if (rng.next() < 0.15) {
      // Refused: what comes after the bad header (even a good frame) is never echoed.
      const tail =
        rng.next() < 0.5
          ? randomBytes(rng, rng.int(1, 64))
          : encodeFrame(randomBytes(rng, rng.int(0, 64)));
      const input = concat([output, badHeader(rng), tail]);
      return { input, output, ends: true, refused: true, units: frames.length };
    }
    return { input: output, output, ends: false, refused: false, units: frames.length };
  },
  prime() {
    // A frame whose echo fills the 64 KiB output to 3 bytes short, then a second frame: the
    // first recv (64 KiB) ends 3 bytes into its header, which the guest leaves unconsumed
    // because it needs all 8. With the peer not reading, the connection holds its output and
    // those 3 bytes: two buffers.
    const input = concat([
      encodeFrame(new Uint8Array(65536 - FRAME_HEADER - 3).fill(1)),
      encodeFrame(new Uint8Array(100).fill(2)),
    ]);
    return {
      exchange: { input, output: input, ends: false, refused: false, units: 2 },
      buffers: 2,
    };
  },
};
