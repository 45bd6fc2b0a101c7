// The incremental request-head scanner (RFC 9112 sections 2-5): it checks the syntax of the
// request line and the field lines byte by byte and finds the end of the head. Its contract is
// picohttpparser's: given the bytes received so far it answers "complete, n bytes", "need more"
// or "malformed (status)". Unlike picohttpparser it never rescans: the position and state are
// kept in a Scan (scan-state.ts), so a head that arrives one byte at a time costs one pass in
// total (slowloris). The request line's bytes are scan-line.ts's.
// It allocates nothing and indexes nothing; the caller keeps the bytes in place (offsets are
// relative to the head's first byte) and indexes the field lines only if it reads them
// (fields.ts; the SDK's Request does it on the first accessor that needs them).
//
// Choices, all strict (docs/HTTP.md): empty lines before the request line are skipped; CR must
// be followed by LF and LF preceded by CR; exactly one SP between the parts of the request line;
// the target holds only RFC 3986 characters and well-formed %XX; a field line starting with
// whitespace (obs-fold, or whitespace after the request line) is refused; no whitespace between
// a field name and its colon; NUL and other control bytes are refused everywhere except HTAB in
// field values.
//
// Errors are reported at the first byte that proves them, as llhttp does, so a bad request
// stops costing anything at once instead of waiting for its head to end: besides the byte
// classes above, an unsupported version at the CR that ends it (505), and in the header section a
// second Content-Length or Host, Content-Length with Transfer-Encoding, Transfer-Encoding in
// HTTP/1.0 at the colon that names them (400), and a Content-Length value at its first bad
// byte (400), 16th digit or first digit past max-body-bytes (413); Host, Transfer-Encoding,
// Connection and Expect values at their line's CR (early.ts). What needs the whole head (Host
// present, the target's form, a coding before chunked) is framing.ts's business, decided from
// what this scan recorded as the lines passed (Scan.seen, Scan.length): a head is read once.
//
// hello.wasm (proto/hello.ts) runs this same scanner under its own, smaller rule set
// (limits.ts useHelloRules), reported at the same bytes: a head of at most 8 KiB (431, or 414
// anywhere in the request line), a target of any bytes but SP and CTL, no method, target or
// field-count limit of its own, Transfer-Encoding 501 at its colon, a 16th Content-Length digit
// 400, Host and Expect unchecked, and Connection's values read but never refused (early.ts).

import { COLON, CR, LF, VALUE, isClass, isDigit, isOws, isTchar } from "./chars";
import { equalsLower, bytes } from "../bytes";
import { isLastHost, lastHostEnd, seenAfter, valueError } from "./early";
import { Field, Head, Scan, SEEN_CODINGS, SEEN_HOST, SEEN_LENGTH } from "./scan-state";
import { scanLine } from "./scan-line";

export { Head, Scan } from "./scan-state";
import { helloRules, maxBodyBytes, maxHeaderBytes, maxHeaders } from "./limits";

/** scanHead()/scanFields(): more bytes are needed. */
export const MORE: i32 = 0;

const HOST_LE: u32 = 0x74736f68; // "host" as a little-endian u32
const H_CONNECTION = bytes("connection");
const H_EXPECT = bytes("expect");
const H_CONTENT_LENGTH = bytes("content-length");
const H_TRANSFER_ENCODING = bytes("transfer-encoding");
/** Content-Length digits beyond this many are "too large" (413), as in framing.ts. */
const MAX_LENGTH_DIGITS: i32 = 15;

/** Scans the head at [p, p+len), resuming where the last call stopped (len only grows between
 *  calls, with the same first byte). Returns the head length once the empty line has ended it,
 *  MORE, or -status: 400 malformed, 413 Content-Length too large, 414 target too long, 431
 *  head or field count too large, 501 method too long, 505 a version other than HTTP/1.0-1.1. */
export function scanHead(s: Scan, p: usize, len: i32): i32 {
  const end = min(len, maxHeaderBytes);
  let i = s.pos;
  while (i < end) {
    i = s.state < Head.FIELD ? scanLine(s, p, i, end) : scanFields(s, p, i, end);
    if (i < 0) return i;
    if (s.state == Head.DONE) return i;
  }
  s.pos = i;
  if (len < maxHeaderBytes) return MORE;
  if (helloRules) return s.state < Head.FIELD ? -414 : -431; // anywhere in the request line
  return s.state >= Head.TARGET && s.state <= Head.PCT2 ? -414 : -431;
}

/** Field-line bytes from i (a header or trailer section) until the section ends or `end`;
 *  the new offset or -status. Leaves s.state DONE after the empty line. */
export function scanFields(s: Scan, p: usize, i: i32, end: i32): i32 {
  while (i < end) {
    const st = s.state;
    if (st == Head.VALUE) {
      // The usual Host, the last one found valid, is passed whole up to its CR (early.ts);
      // any other value takes the hot loop, value bytes until the CR.
      const known = s.kind == Field.HOST && i == s.name ? knownHost(s, p, i, end) : i;
      i = known != i ? known : valueRun(p, i, end);
      if (i == end) break;
      if (<u32>load<u8>(p + <usize>i) != CR) return -400;
      s.state = Head.FIELD_LF;
      if (s.kind != Field.OTHER) {
        const r = valueEnd(s, p, i);
        if (r < 0) return r;
      }
      // The usual LF after the CR, in the same turn (the state fieldEdge would reach).
      if (i + 1 < end && <u32>load<u8>(p + <usize>i + 1) == LF) {
        s.state = Head.FIELD;
        i++;
      }
    } else if (st == Head.NAME) {
      i = nameRun(p, i, end);
      if (i == end) break;
      if (<u32>load<u8>(p + <usize>i) != COLON) return -400;
      s.state = Head.VALUE;
      s.kind = Field.OTHER;
      if (!s.trailer) {
        // Host, in every request, in line; the other names nameEnd() tells apart.
        const r = isHostName(s, p, i) ? hostName(s, i) : nameEnd(s, p, i);
        if (r < 0) return r;
      }
    } else {
      const r = fieldEdge(s, p, <u32>load<u8>(p + <usize>i), i, end);
      if (r < 0) return r;
      if (s.state == Head.DONE) return i + 1 + r; // r: 1 when the LF was taken with its CR
    }
    i++;
  }
  return i;
}

const ONES: u64 = 0x0101010101010101;
const HIGH: u64 = 0x8080808080808080;

/** Field-value bytes from i (class VALUE): the offset of the first other byte, or `end`. Eight
 *  bytes a turn while none is below SP or DEL (a word test, exact: it never passes a CTL), then
 *  a byte at a time through the table, which also takes HTAB, the one byte below SP that is a
 *  value byte (the word test stops at it). */
// @ts-ignore: decorator
@inline function valueRun(p: usize, i: i32, end: i32): i32 {
  while (end - i >= 8) {
    const x = load<u64>(p + <usize>i);
    const del = x ^ (ONES * 0x7f);
    if (((x - ONES * 0x20) & ~x & HIGH) != 0 || ((del - ONES) & ~del & HIGH) != 0) break;
    i += 8;
  }
  while (i < end && isClass(<u32>load<u8>(p + <usize>i), VALUE)) i++;
  return i;
}

/** Field-name bytes from i (tchar): the offset of the first other byte, or `end`. Eight a turn
 *  up to the first that is no letter or "-" (a word test, exact per byte), then a byte at a
 *  time through the table from that byte, which takes the other tchars and finds what stops
 *  the name; so each byte's verdict is the table's, as before. (Taking the first bytes one at
 *  a time, so that Host's name reads no word, counted worse: browser-like heads 2,211 against
 *  2,026 instructions in scanFields, wrk's 305 against 310.) */
// @ts-ignore: decorator
@inline function nameRun(p: usize, i: i32, end: i32): i32 {
  while (end - i >= 8) {
    const stop = notLetterOrDash(load<u64>(p + <usize>i));
    if (stop != 0) {
      i += <i32>(ctz(stop) >> 3); // the first such byte (little-endian: the lowest)
      break;
    }
    i += 8;
  }
  while (i < end && isTchar(<u32>load<u8>(p + <usize>i))) i++;
  return i;
}

const LOW7: u64 = 0x7f7f7f7f7f7f7f7f;

/** The high bit of each byte of x that is not an ASCII letter or "-", the others 0. */
// @ts-ignore: decorator
@inline function notLetterOrDash(x: u64): u64 {
  // On the low seven bits of each byte no sum carries into the next byte; a byte with its
  // high bit set is neither (x itself marks it below).
  const x7 = x & LOW7;
  const folded = x7 | (ONES * 0x20); // A-Z to a-z; only letters land in 0x61-0x7a
  const letter = (folded + ONES * (0x80 - 0x61)) & ~(folded + ONES * (0x80 - 0x7b));
  const d = x7 ^ (ONES * 0x2d); // zero where the byte is "-"
  const dash = ~((d + LOW7) | d | LOW7); // high bit exactly where d is zero
  return (~(letter | dash) | x) & HIGH;
}

/** The start of a field line (at i), a Content-Length byte, and the LFs after a CR. Returns
 *  -status, 0, or 1 when the byte after i was taken too (the LF ending the head). */
function fieldEdge(s: Scan, p: usize, c: u32, i: i32, end: i32): i32 {
  switch (s.state) {
    case Head.FIELD:
      if (c == CR) {
        // The empty line's usual LF, in the same turn: the head ends at it.
        const lf = i + 1 < end && <u32>load<u8>(p + <usize>i + 1) == LF;
        s.state = lf ? Head.DONE : Head.END_LF;
        return lf ? 1 : 0;
      }
      // Whitespace here is obs-fold, or whitespace between the request line and the first
      // field (RFC 9112 2.2, 5.2): refused. A colon here is an empty name.
      if (!isTchar(c)) return -400;
      if (++s.fields > maxHeaders) return -431;
      s.name = i;
      s.state = Head.NAME;
      return 0;
    case Head.LENGTH:
      return lengthByte(s, p, c, i);
    case Head.FIELD_LF:
      if (c != LF) return -400;
      s.state = Head.FIELD;
      return 0;
    case Head.END_LF:
      if (c != LF) return -400;
      s.state = Head.DONE;
      return 0;
    default:
      unreachable();
      return -400;
  }
}

/** A header field's name ended at the colon at i: the framing fields that may not repeat or
 *  meet (RFC 9112 3.2, 6.1, 6.3) are refused here; Content-Length's value is read next, and
 *  the values early.ts checks are marked for valueEnd. The names are told apart by length and
 *  first byte before any compare, so another field costs a switch. */
function nameEnd(s: Scan, p: usize, i: i32): i32 {
  const name = p + <usize>s.name;
  const len = i - s.name;
  s.name = i + 1; // the value starts after the colon
  const first = (<u32>load<u8>(name)) | 0x20; // lower case, for a letter
  switch (len) {
    case 6:
      if (first == 0x65 && !helloRules && equalsLower(name, len, H_EXPECT)) s.kind = Field.EXPECT;
      break;
    case 10:
      if (first == 0x63 && equalsLower(name, len, H_CONNECTION)) s.kind = Field.CONNECTION;
      break;
    case 14:
      if (first == 0x63 && equalsLower(name, len, H_CONTENT_LENGTH)) return lengthName(s);
      break;
    case 17:
      if (first == 0x74 && equalsLower(name, len, H_TRANSFER_ENCODING)) {
        return helloRules ? -501 : codingsName(s);
      }
      break;
  }
  return 0;
}

/** True when the name that ended at the colon at i is Host, which the SDK's rules check (hello's
 *  do not): "host" in one compare, as OR 0x20 makes only 'H' and 'h' (and so on) equal these
 *  bytes. */
// @ts-ignore: decorator
@inline function isHostName(s: Scan, p: usize, i: i32): bool {
  return !helloRules && i - s.name == 4 && (load<u32>(p + <usize>s.name) | 0x20202020) == HOST_LE;
}

/** nameEnd() for Host, the colon at i. */
// @ts-ignore: decorator
@inline function hostName(s: Scan, i: i32): i32 {
  s.name = i + 1; // the value starts after the colon
  if ((s.seen & SEEN_HOST) != 0) return -400;
  s.seen |= SEEN_HOST;
  s.kind = Field.HOST;
  return 0;
}

function lengthName(s: Scan): i32 {
  if ((s.seen & (SEEN_LENGTH | SEEN_CODINGS)) != 0) return -400; // repeated, or with TE
  s.seen |= SEEN_LENGTH;
  s.digits = 0;
  s.length = 0;
  s.lengthEnd = false;
  s.state = Head.LENGTH;
  return 0;
}

function codingsName(s: Scan): i32 {
  if ((s.seen & SEEN_LENGTH) != 0 || s.minor == 0) return -400; // with CL, or in HTTP/1.0
  s.seen |= SEEN_CODINGS;
  s.kind = Field.CODINGS;
  return 0;
}

/** From the start of a Host value at i: its CR's offset if it is the last valid one (then no
 *  check is left for it at the CR), else i. */
function knownHost(s: Scan, p: usize, i: i32, end: i32): i32 {
  const cr = lastHostEnd(p, i, end);
  if (cr < 0) return i;
  s.kind = Field.OTHER;
  return cr;
}

/** A Host, Transfer-Encoding, Connection or Expect value ended at the CR at i (early.ts). */
function valueEnd(s: Scan, p: usize, i: i32): i32 {
  if (s.kind == Field.HOST && isLastHost(p, s.name, i)) return 0; // the usual Host: no call
  const r = valueError(s.kind, p, s.name, i, s.minor == 0, s.seen);
  s.seen = seenAfter;
  return r;
}

/** One byte of a Content-Length value: OWS 1*DIGIT OWS, at most 15 digits (413 past them, or
 *  past max-body-bytes), then the CR. */
function lengthByte(s: Scan, p: usize, c: u32, i: i32): i32 {
  if (isOws(c)) {
    if (s.digits > 0) s.lengthEnd = true;
    return 0;
  }
  if (isDigit(c)) {
    if (s.lengthEnd) return -400; // "1 2"
    if (++s.digits > MAX_LENGTH_DIGITS) return helloRules ? -400 : -413;
    s.length = s.length * 10 + <i64>(c - 0x30);
    return s.length > maxBodyBytes ? -413 : 0;
  }
  if (c != CR || s.digits == 0) return -400; // a sign, a list, an empty value
  s.state = Head.FIELD_LF;
  return 0;
}
