// An incremental multipart/form-data parser (RFC 7578, RFC 2046 5.1), pull-style: push() the
// body pieces as they arrive, then call next() until it answers MORE. Part data comes out as
// spans of the pushed bytes, so a file of any size passes through in constant memory; only a
// part's header block is copied (into a 2 KiB buffer). Allocates nothing after construction.
//
// The delimiter is CRLF "--" boundary. The only CR in it is its first byte (a boundary has no
// CR), so a failed match can resume the search where it failed: the scan is linear. A match
// cut by the end of a piece is held back and, if it fails, given out as data from the
// delimiter's own bytes (they are equal). The body's first delimiter has no CRLF before it:
// the parser starts as if the CRLF had been seen.

import { ByteBuf } from "./buffers";
import { CR, LF, isOws } from "./chars";
import { boundaryOf, MAX_BOUNDARY } from "./multipart-boundary";
import { parseHeaderBlock, PartHeaders } from "./multipart-headers";

/** What next() found. */
export const enum Part {
  MORE = 0,
  BEGIN,
  DATA,
  END,
  DONE,
  ERROR,
}

const enum M {
  PREAMBLE = 0,
  AFTER,
  DASH,
  PAD,
  PAD_LF,
  HEADERS,
  BODY,
  EPILOGUE,
  FAILED,
}

/** Longest header block of one part. */
const MAX_PART_HEAD: i32 = 2048;

@final
export class Multipart {
  private delim: StaticArray<u8> = new StaticArray<u8>(MAX_BOUNDARY + 4);
  private dlen: i32 = 0;
  private state: M = M.FAILED;
  private match: i32 = 0; // delimiter bytes matched and held back
  private ended: bool = false; // BODY: a delimiter was found right after the data given out
  private p: usize = 0;
  private len: i32 = 0;
  private pos: i32 = 0;
  private head: ByteBuf = new ByteBuf();
  /** The current part's name, filename and content type (after BEGIN, until the next). */
  readonly headers: PartHeaders = new PartHeaders();
  /** DATA: where the bytes are (in the pushed piece, or in the parser's own memory). */
  dataPtr: usize = 0;
  dataLen: i32 = 0;

  /** Starts a body whose Content-Type value is [p, p+len). False (and every next() is ERROR)
   *  unless it is multipart/form-data with a valid boundary. */
  start(p: usize, len: i32): bool {
    this.head.clear();
    this.pos = 0;
    this.len = 0;
    this.ended = false;
    this.dlen = boundaryOf(p, len, changetype<usize>(this.delim) + 4);
    if (this.dlen == 0) {
      this.state = M.FAILED;
      return false;
    }
    store<u32>(changetype<usize>(this.delim), 0x2d2d0a0d); // CR LF "-" "-"
    this.dlen += 4;
    this.state = M.PREAMBLE;
    this.match = 2; // the body's first delimiter has no CRLF before it
    return true;
  }

  /** The next piece of the body; valid until next() answers MORE. */
  push(p: usize, len: i32): void {
    this.p = p;
    this.len = len;
    this.pos = 0;
  }

  /** True once the close delimiter has been seen. */
  get done(): bool {
    return this.state == M.EPILOGUE;
  }

  /** Parses on: MORE (push the next piece), BEGIN (a part starts: see headers), DATA (see
   *  dataPtr/dataLen), END (the part ended), DONE (the close delimiter), or ERROR. */
  next(): Part {
    switch (this.state) {
      case M.PREAMBLE:
        return this.preamble();
      case M.BODY:
        return this.body();
      case M.HEADERS:
        return this.headerBlock();
      case M.EPILOGUE:
        this.pos = this.len;
        return Part.MORE;
      case M.FAILED:
        return Part.ERROR;
      default:
        return this.afterDelimiter();
    }
  }

  private preamble(): Part {
    while (this.pos < this.len) {
      if (this.match > 0) {
        if (this.resume() == 1) return this.delimited();
        continue;
      }
      const r = this.search();
      if (r == 1) {
        this.pos = this.found + this.dlen;
        return this.delimited();
      }
      this.pos = this.len; // discarded; a delimiter prefix at the end is held in `match`
    }
    return Part.MORE;
  }

  private body(): Part {
    if (this.ended) {
      this.ended = false;
      return this.delimited(Part.END);
    }
    if (this.pos >= this.len) return Part.MORE;
    if (this.match > 0) {
      const r = this.resume();
      if (r == 1) return this.delimited(Part.END);
      if (r == 2) return this.give(changetype<usize>(this.delim), this.found);
      return Part.MORE;
    }
    const from = this.pos;
    const r = this.search();
    const end = r == 0 ? this.len : this.found;
    this.pos = r == 1 ? this.found + this.dlen : this.len;
    if (r == 1) this.ended = true;
    if (end > from) return this.give(this.p + <usize>from, end - from);
    return this.body();
  }

  private give(ptr: usize, len: i32): Part {
    this.dataPtr = ptr;
    this.dataLen = len;
    return Part.DATA;
  }

  /** A delimiter was passed: what follows it decides (AFTER). */
  private delimited(result: Part = Part.MORE): Part {
    this.match = 0;
    this.state = M.AFTER;
    return result == Part.END ? Part.END : this.afterDelimiter();
  }

  /** Goes on matching a prefix held back from an earlier piece. 1: the delimiter is complete;
   *  2: it failed at pos, after `found` bytes of it (which are data); 0: the piece ended. */
  private resume(): i32 {
    const d = changetype<usize>(this.delim);
    while (this.pos < this.len) {
      if (load<u8>(this.p + <usize>this.pos) != load<u8>(d + <usize>this.match)) {
        this.found = this.match;
        this.match = 0;
        return 2;
      }
      this.pos++;
      if (++this.match == this.dlen) return 1;
    }
    return 0;
  }

  // search(): where the delimiter starts in this piece; resume(): how much had matched.
  private found: i32 = 0;

  /** Looks for the delimiter from pos. 1: a whole one at `found`; 3: a prefix from `found` to
   *  the end of the piece (now held in `match`); 0: none. */
  private search(): i32 {
    const d = changetype<usize>(this.delim);
    let i = this.pos;
    while (i < this.len) {
      if (<u32>load<u8>(this.p + <usize>i) != CR) {
        i++;
        continue;
      }
      let m = 1;
      let j = i + 1;
      while (
        j < this.len &&
        m < this.dlen &&
        load<u8>(this.p + <usize>j) == load<u8>(d + <usize>m)
      ) {
        m++;
        j++;
      }
      if (m == this.dlen) {
        this.found = i;
        return 1;
      }
      if (j == this.len) {
        this.found = i;
        this.match = m;
        return 3;
      }
      i = j; // no delimiter starts inside [i, j): its only CR is its first byte
    }
    return 0;
  }

  /** After a delimiter: "--" closes the body; otherwise optional padding, then CRLF and a
   *  part's header block. */
  private afterDelimiter(): Part {
    while (this.pos < this.len) {
      const c = <u32>load<u8>(this.p + <usize>this.pos);
      this.pos++;
      const st = this.state;
      if (st == M.AFTER && c == 0x2d) {
        this.state = M.DASH;
        continue;
      }
      if (st == M.DASH) {
        if (c != 0x2d) return this.fail();
        this.state = M.EPILOGUE;
        this.pos = this.len;
        return Part.DONE;
      }
      if ((st == M.AFTER || st == M.PAD) && isOws(c)) {
        this.state = M.PAD;
        continue;
      }
      if ((st == M.AFTER || st == M.PAD) && c == CR) {
        this.state = M.PAD_LF;
        continue;
      }
      if (st != M.PAD_LF || c != LF) return this.fail();
      this.state = M.HEADERS;
      this.head.reset();
      return this.headerBlock();
    }
    return Part.MORE;
  }

  /** Gathers a part's header block up to its empty line, then reads it. */
  private headerBlock(): Part {
    const h = this.head;
    while (this.pos < this.len) {
      if (h.length >= MAX_PART_HEAD || !h.reserve(1)) return this.fail();
      store<u8>(h.ptr + <usize>h.end, load<u8>(this.p + <usize>this.pos));
      this.pos++;
      h.end++;
      if (endsBlock(h)) {
        if (!parseHeaderBlock(this.headers, h.ptr, h.length)) return this.fail();
        this.state = M.BODY;
        return Part.BEGIN;
      }
    }
    return Part.MORE;
  }

  private fail(): Part {
    this.state = M.FAILED;
    return Part.ERROR;
  }
}

function endsBlock(h: ByteBuf): bool {
  const n = h.length;
  if (n == 2) return load<u16>(h.ptr) == 0x0a0d;
  return n >= 4 && load<u32>(h.ptr + <usize>(n - 4)) == 0x0a0d0a0d;
}
