// A response's header lines until its head is written. The first lines, while they are all
// literal pairs (literal-lines.ts), are held as their entries' numbers and copied from there
// when the head is written, so the usual `header("Content-Type", "text/plain")` copies
// nothing; the other lines (and every line after the first that is not such a pair) are
// appended to `head`, after those, in the order they were added.

import { ByteBuf } from "./buffers";
import { lineLen, literalEntry } from "./literal-lines";
import { Output } from "./output";
import { appendLine, HEAD_FIXED_MAX, putLiterals } from "./response-head";

/** Literal lines held as numbers: one byte each in a u64. */
const MAX_LITS = 8;

export class HeadLines extends Output {
  head: ByteBuf = new ByteBuf();
  lits: u64 = 0; // entries + 1, one per byte, the first line in the lowest
  litCount: i32 = 0; // -1 once a line went to `head`: every later one goes there too
  litBytes: i32 = 0;

  /** Adds the line of the pair checkHeaderCached() was last given; false past the memory cap
   *  or the head's limit. */
  protected addLine(name: string, value: string): bool {
    const e = literalEntry;
    const n = this.litCount;
    if (e >= 0 && n >= 0 && n < MAX_LITS) {
      this.lits |= (<u64>(e + 1)) << (<u64>(n << 3));
      this.litCount = n + 1;
      this.litBytes += lineLen(e);
      return true;
    }
    if (n >= 0 && !this.keepLiterals()) return false;
    return appendLine(this.head, name, value);
  }

  /** Moves the literal lines held as numbers into `head` (empty until now); false past the
   *  memory cap. */
  private keepLiterals(): bool {
    const h = this.head;
    const n = this.litBytes;
    if (n > 0) {
      if (!h.reserve(n)) return false;
      h.end += putLiterals(h.ptr + <usize>h.end, this.lits);
    }
    this.lits = 0;
    this.litBytes = 0;
    this.litCount = -1;
    return true;
  }

  /** Drops the lines; `free` gives head's block back (else it stays for the next response). */
  protected forgetLines(free: bool): void {
    if (free) this.head.clear();
    else this.head.reset();
    this.lits = 0;
    this.litCount = 0;
    this.litBytes = 0;
  }

  /** The most bytes the head can take (putHead). */
  protected headBytes(): i32 {
    return HEAD_FIXED_MAX + this.litBytes + this.head.length;
  }
}
