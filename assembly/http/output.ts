// A response's way out: bytes go to the connection's output while it has room, the rest waits
// in `spill` (and the connection stops reading) until the peer takes it. Response builds on it.

import { connSpace, connWantDrain, connWrite } from "../socket";
import { ByteBuf } from "./buffers";

/** Output for one response the peer has not taken yet; a handler that writes past it without
 *  waiting for onDrain has failed, and the connection is aborted. */
const SPILL_MAX: i32 = 4 << 20;

/** What `writable` keeps back for framing: a chunk-size line and its CRLFs. */
const CHUNK_OVERHEAD: i32 = 32;

export class Output {
  ended: bool = false; // end() or fail() was called
  failed: bool = false; // fail(): answered 500, or aborted after the head went out
  closeAfter: bool = false; // the connection closes after this response
  spill: ByteBuf = new ByteBuf();

  constructor(public slot: u32) {}

  /** Bytes that can be written now without waiting for the peer; 0 while earlier output waits. */
  get writable(): i32 {
    return this.spill.length > 0 ? 0 : max(0, connSpace(this.slot) - CHUNK_OVERHEAD);
  }

  /** SDK: ends a response whose head is out without completing it; the connection closes. */
  abort(): void {
    this.failed = true;
    this.ended = true;
    this.closeAfter = true;
  }

  /** SDK: moves waiting output to the connection; true when none is left. */
  pump(): bool {
    const s = this.spill;
    if (s.length == 0) return true;
    s.consume(connWrite(this.slot, s.data, s.length));
    if (s.length > 0) connWantDrain(this.slot);
    return s.length == 0;
  }

  /** Output, in order: to the connection while it has room, then to the spill. */
  protected emit(ptr: usize, len: i32): void {
    if (len <= 0) return;
    const s = this.spill;
    if (s.length == 0) {
      const n = connWrite(this.slot, ptr, len);
      ptr += <usize>n;
      len -= n;
      if (len == 0) return;
    }
    if (s.length + len > SPILL_MAX || !s.append(ptr, len)) {
      this.abort();
      return;
    }
    connWantDrain(this.slot);
  }
}
