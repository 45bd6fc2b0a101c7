// The incremental chunked-body decoder (RFC 9112 7.1): chunk-size in hex, chunk extensions
// (checked and ignored), the data, and the trailer section (checked with the field-line scanner
// and discarded, as 7.1.2 allows). It consumes bytes as they come and keeps only its state, so
// a body of any size passes through in constant memory; the caller gets the data as spans of
// the input. Allocates nothing.

import {
  BACKSLASH,
  CR,
  DQUOTE,
  EQUALS,
  HEX,
  LF,
  SEMI,
  VALUE,
  hexValue,
  isClass,
  isOws,
  isTchar,
} from "./chars";
import { maxHeaderBytes } from "./limits";
import { Head, Scan, scanFields } from "./scan";

/** Hex digits in a chunk-size: 15 of them is 2^60, past any max-body-bytes; more would
 *  overflow, and are refused as malformed. Leading zeros count. */
const MAX_SIZE_DIGITS: i32 = 15;
/** Longest chunk-size line, extensions included (400 past it). */
const MAX_SIZE_LINE: i32 = 4096;

export const enum Chunk {
  SIZE_START = 0, // the first hex digit of a chunk-size
  SIZE, // more hex digits, or what ends the size
  EXT_BWS, // whitespace after the size or an extension: ";" must follow
  EXT_NAME_BWS, // after ";": whitespace, then the extension name
  EXT_NAME,
  EXT_NAME_END, // whitespace after a name: "=" or ";" must follow
  EXT_VALUE_BWS, // after "=": whitespace, then a token or a quoted-string
  EXT_TOKEN,
  EXT_QUOTED,
  EXT_ESCAPE, // after a backslash in a quoted-string
  EXT_QUOTE_END, // after the closing quote: ";", BWS then ";", or the CR
  SIZE_LF, // after the CR ending the chunk-size line
  DATA,
  DATA_CR, // the CRLF after the data
  DATA_LF,
  TRAILERS, // the trailer section, scanned by scanFields in `trailer`
  DONE,
}

@final
export class Chunked {
  state: Chunk = Chunk.SIZE_START;
  size: i64 = 0; // the chunk-size being read
  left: i64 = 0; // DATA: bytes of this chunk still to come
  digits: i32 = 0;
  line: i32 = 0; // bytes of the current chunk-size line
  trailer: Scan = new Scan();

  reset(): void {
    this.state = Chunk.SIZE_START;
    this.left = 0;
    this.line = 0;
  }
}

/** Where the data of the last decode() call is: [dataAt, dataAt+dataLen) of its input. */
export let dataAt: i32 = 0;
export let dataLen: i32 = 0;
/** decode(): a complete chunk-size was read; the caller checks it against its body limit. */
export let sizeRead: bool = false;

/** Decodes from [p, p+len) until some data is found, the body ends, or the input is used up.
 *  Returns the bytes consumed (the data, if any, is the last dataLen of them, at dataAt), or
 *  -400, or -431 for an oversized trailer section. c.state is DONE after the last CRLF. */
export function decode(c: Chunked, p: usize, len: i32): i32 {
  dataLen = 0;
  sizeRead = false;
  let i = 0;
  while (i < len && c.state != Chunk.DONE) {
    if (c.state == Chunk.DATA) {
      const n = <i32>min<i64>(c.left, <i64>(len - i));
      dataAt = i;
      dataLen = n;
      c.left -= n;
      if (c.left == 0) c.state = Chunk.DATA_CR;
      return i + n;
    }
    if (c.state == Chunk.TRAILERS) return trailers(c, p, i, len);
    const r = lineByte(c, <u32>load<u8>(p + <usize>i));
    if (r < 0) return r;
    i++;
    if (sizeRead) return i;
  }
  return i;
}

function trailers(c: Chunked, p: usize, i: i32, len: i32): i32 {
  const t = c.trailer;
  const room = maxHeaderBytes - t.pos;
  const end = i + min(len - i, room);
  const j = scanFields(t, p, i, end);
  if (j < 0) return j;
  t.pos += j - i;
  if (t.state == Head.DONE) {
    c.state = Chunk.DONE;
    return j;
  }
  if (t.pos >= maxHeaderBytes) return -431;
  return j;
}

/** One byte of a chunk-size line or of the CRLF after data; 0 or -400. The line's CR counts
 *  toward MAX_SIZE_LINE, so its last byte that is not that CR is already a fault. */
function lineByte(c: Chunked, b: u32): i32 {
  if (c.state < Chunk.SIZE_LF && ++c.line >= MAX_SIZE_LINE && (c.line > MAX_SIZE_LINE || b != CR))
    return -400;
  switch (c.state) {
    case Chunk.SIZE_START:
      if (!isClass(b, HEX)) return -400;
      c.size = <i64>hexValue(b);
      c.digits = 1;
      c.line = 1;
      c.state = Chunk.SIZE;
      return 0;
    case Chunk.SIZE:
      if (isClass(b, HEX)) {
        if (++c.digits > MAX_SIZE_DIGITS) return -400;
        c.size = (c.size << 4) | (<i64>hexValue(b));
        return 0;
      }
      return afterSize(c, b);
    case Chunk.SIZE_LF:
      if (b != LF) return -400;
      sizeRead = true;
      c.line = 0;
      if (c.size == 0) {
        c.state = Chunk.TRAILERS;
        c.trailer.resetFields();
      } else {
        c.left = c.size;
        c.state = Chunk.DATA;
      }
      return 0;
    case Chunk.DATA_CR:
      if (b != CR) return -400;
      c.state = Chunk.DATA_LF;
      return 0;
    case Chunk.DATA_LF:
      if (b != LF) return -400;
      c.state = Chunk.SIZE_START;
      return 0;
    default:
      return extByte(c, b);
  }
}

/** What may follow the size's last digit: the CR, or an extension (optionally after BWS). */
function afterSize(c: Chunked, b: u32): i32 {
  if (b == CR) {
    c.state = Chunk.SIZE_LF;
    return 0;
  }
  if (b == SEMI) {
    c.state = Chunk.EXT_NAME_BWS;
    return 0;
  }
  if (isOws(b)) {
    c.state = Chunk.EXT_BWS;
    return 0;
  }
  return -400;
}

/** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token /
 *  quoted-string. Whitespace is only allowed where BWS is: never right before the CR.
 *  A state switch with a short case per extension state, so excepted from the 40-line limit
 *  (issue 11): split, one grammar's states would be spread over functions. */
function extByte(c: Chunked, b: u32): i32 {
  switch (c.state) {
    case Chunk.EXT_BWS:
      if (isOws(b)) return 0;
      if (b == SEMI) {
        c.state = Chunk.EXT_NAME_BWS;
        return 0;
      }
      return -400;
    case Chunk.EXT_NAME_BWS:
      if (isOws(b)) return 0;
      if (!isTchar(b)) return -400;
      c.state = Chunk.EXT_NAME;
      return 0;
    case Chunk.EXT_NAME:
    case Chunk.EXT_TOKEN:
      if (isTchar(b)) return 0;
      if (b == EQUALS && c.state == Chunk.EXT_NAME) {
        c.state = Chunk.EXT_VALUE_BWS;
        return 0;
      }
      if (isOws(b)) {
        c.state = c.state == Chunk.EXT_NAME ? Chunk.EXT_NAME_END : Chunk.EXT_BWS;
        return 0;
      }
      return afterSize(c, b);
    case Chunk.EXT_NAME_END:
      if (isOws(b)) return 0;
      if (b == EQUALS) {
        c.state = Chunk.EXT_VALUE_BWS;
        return 0;
      }
      if (b == SEMI) {
        c.state = Chunk.EXT_NAME_BWS;
        return 0;
      }
      return -400;
    case Chunk.EXT_VALUE_BWS:
      if (isOws(b)) return 0;
      if (b == DQUOTE) {
        c.state = Chunk.EXT_QUOTED;
        return 0;
      }
      if (!isTchar(b)) return -400;
      c.state = Chunk.EXT_TOKEN;
      return 0;
    default:
      return quotedByte(c, b);
  }
}

/** quoted-string (RFC 9110 5.6.4): qdtext or a quoted-pair, up to the closing quote. */
function quotedByte(c: Chunked, b: u32): i32 {
  switch (c.state) {
    case Chunk.EXT_ESCAPE:
      if (!isClass(b, VALUE)) return -400; // HTAB / SP / VCHAR / obs-text
      c.state = Chunk.EXT_QUOTED;
      return 0;
    case Chunk.EXT_QUOTED:
      if (b == DQUOTE) {
        c.state = Chunk.EXT_QUOTE_END;
        return 0;
      }
      if (b == BACKSLASH) {
        c.state = Chunk.EXT_ESCAPE;
        return 0;
      }
      return isClass(b, VALUE) ? 0 : -400;
    default: // EXT_QUOTE_END
      if (isOws(b)) {
        c.state = Chunk.EXT_BWS;
        return 0;
      }
      return afterSize(c, b);
  }
}
