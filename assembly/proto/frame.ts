// Frame: length-prefixed messages, each echoed back whole (header and payload), in order.
//
//    0              4                     8
//   +--------------+---------------------+-------------------------------+
//   | magic "WLF1" | length: u32,        | payload: `length` bytes       |
//   | 57 4C 46 31  | big-endian          | (0 .. max-frame-bytes)        |
//   +--------------+---------------------+-------------------------------+
//
// Streaming: a frame may be far larger than the 64 KiB the core offers or connWrite takes at
// once, so nothing waits for a whole frame. Once a header is accepted it is written to the
// output, and payload bytes are passed through as they arrive, consuming only what connWrite
// accepted; the core offers the rest again once the output has drained (backpressure comes
// from the core). Per slot we keep one number, the payload bytes still to pass through.
//
// Refusals: a magic that differs (checked byte by byte as it arrives, so garbage is refused at
// its first wrong byte) or a length over max-frame-bytes ends that connection with connFail
// (counted in protocol_errors). The frames echoed before it are still sent, then FIN.
//
// Nothing is allocated per frame or per connection: the per-slot array is allocated once at
// wl_init (frameInit), sized to the connection table.

import { limit } from "../config";
import {
  connFail,
  connSpace,
  connWrite,
  count,
  instanceRetiring,
  maxConnections,
  REQUESTS,
} from "../socket";

/** Header bytes: the 4-byte magic and the u32 length. */
export const HEADER_SIZE: i32 = 8;

/** The magic "WLF1" as a little-endian u32 load of its four bytes (0x57 0x4C 0x46 0x31). */
const MAGIC_LE: u32 = 0x31464c57;
const MAGIC_SIZE: i32 = 4;

/** Default largest payload (limit `max-frame-bytes`): large enough for any message we expect,
 *  small enough that one peer cannot make us relay an unbounded stream as a single frame. */
export const MAX_FRAME_BYTES: f64 = 1048576;

/** What a header at the start of the unconsumed input says. */
const enum Header {
  OK = 0,
  INCOMPLETE,
  BAD_MAGIC,
  TOO_LARGE,
}

/** Payload bytes of the current frame not yet passed through; 0 between frames. */
let remaining = new StaticArray<u32>(0);
let maxFrame: u32 = <u32>MAX_FRAME_BYTES;

/** InitFn: per-slot state for the table size in force, and the frame limit. */
export function frameInit(): void {
  remaining = new StaticArray<u32>(maxConnections());
  // A u32 length field can never exceed 0xffffffff, so larger limits mean "no limit".
  maxFrame = <u32>Math.min(limit("max-frame-bytes", MAX_FRAME_BYTES), <f64>u32.MAX_VALUE);
}

/** OpenFn: a new connection starts between frames. */
/** SalvageFn: a connection moves to a fresh instance only between frames (mid-frame, its
 *  unread input is payload the new instance would take for a header). */
export function frameSalvage(slot: u32, culprit: bool): bool {
  return !culprit && remaining[slot] == 0;
}

export function frameOpen(slot: u32): void {
  remaining[slot] = 0;
}

/** DataFn: echoes every complete header and as much payload as the output takes. Returns the
 *  bytes consumed; an incomplete header is left for the core to offer again with more. */
export function frameData(slot: u32, ptr: usize, len: i32): i32 {
  let used = 0;
  while (used < len) {
    const p = ptr + <usize>used;
    const left = remaining[slot];
    if (left > 0) {
      const want = <i32>min<u32>(left, <u32>(len - used));
      const n = connWrite(slot, p, want);
      used += n;
      remaining[slot] = left - <u32>n;
      if (left == <u32>n) count(REQUESTS);
      if (n < want) break; // output full: the rest is offered again once it drains
      continue;
    }
    // The header is written whole or not at all, so the echo never splits inside one.
    if (connSpace(slot) < HEADER_SIZE) break;
    if (instanceRetiring()) break; // the next frame is the new instance's (a reload)
    switch (header(p, len - used)) {
      case Header.INCOMPLETE:
        return used;
      case Header.BAD_MAGIC:
      case Header.TOO_LARGE:
        connFail(slot);
        return len; // input after a refusal is ignored
      default:
        break;
    }
    connWrite(slot, p, HEADER_SIZE);
    used += HEADER_SIZE;
    const length = bswap<u32>(load<u32>(p, MAGIC_SIZE));
    if (length == 0) count(REQUESTS);
    remaining[slot] = length;
  }
  return used;
}

/** Checks the header at [p, p+avail): the magic as far as it has arrived, then the length. */
function header(p: usize, avail: i32): Header {
  const seen = min(avail, MAGIC_SIZE);
  for (let i = 0; i < seen; i++) {
    if (load<u8>(p + <usize>i) != <u8>(MAGIC_LE >> ((<u32>i) << 3))) return Header.BAD_MAGIC;
  }
  if (avail < HEADER_SIZE) return Header.INCOMPLETE;
  return bswap<u32>(load<u32>(p, MAGIC_SIZE)) > maxFrame ? Header.TOO_LARGE : Header.OK;
}
