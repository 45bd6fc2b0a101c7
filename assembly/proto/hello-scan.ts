// hello's incremental request-head scanner. One pass, byte by byte, resumable: the state lives
// in a per-slot HelloScan, so a head that arrives one byte at a time is checked once in total
// (never rescanned from its start), and an error is reported at the first byte that makes the
// request invalid, as llhttp does: a client that sends `GET / HTTP/5.6` and its CR, or a 16th
// digit of Content-Length, is answered at that byte, not when (or if) its head completes.
//
// hello's rules (its own, looser than the SDK's): the method is a token; the target is any
// bytes but SP and CTL; the version is HTTP/1.0 or HTTP/1.1 (another HTTP/D.D is 505, anything
// else 400); CR must be followed by LF and LF preceded by CR; field names are tokens followed
// at once by ':'; values hold no CTL but HTAB; Content-Length is 1 to 15 digits with optional
// whitespace around them, once; Transfer-Encoding is 501; at most MAX_HEAD bytes (431, or 414
// while the request line is still arriving). The first error in the byte order decides.

import { bytes, equalsLower } from "../bytes";
import { isCtl, isDigit, isOws, isTchar, isTargetByte } from "./hello-chars";

/** Largest request head (request line + headers) accepted. */
export const MAX_HEAD: i32 = 8192;
/** scanHead(): more bytes are needed. */
export const INCOMPLETE: i32 = -2;

const CR: u8 = 0x0d;
const LF: u8 = 0x0a;
const SP: u8 = 0x20;
const COLON: u8 = 0x3a;
/** "HTTP/1.0" and "HTTP/1.1" as little-endian u64s: a version is compared with one load. */
const HTTP10: u64 = 0x302e312f50545448;
const HTTP11: u64 = 0x312e312f50545448;
const HTTP_SLASH = bytes("HTTP/");
const H_CONNECTION = bytes("connection");
const H_CONTENT_LENGTH = bytes("content-length");
const H_TRANSFER_ENCODING = bytes("transfer-encoding");

const enum S {
  START = 0,
  LEAD_LF,
  METHOD,
  TARGET,
  VERSION,
  LINE_LF,
  FIELD,
  NAME,
  VALUE,
  LENGTH,
  FIELD_LF,
  END_LF,
  DONE,
}
const enum Kind {
  OTHER = 0,
  CONNECTION,
}

/** Where one slot's head stands. Offsets are from the head's first byte. */
@unmanaged
export class HelloScan {
  length: i64; // Content-Length (-1: none)
  state: i32;
  pos: i32; // bytes checked so far
  mark: i32; // where the current part starts: target, version, field name, field value
  methodLen: i32;
  kind: i32; // Kind of the field whose value is being read
  digits: i32; // Content-Length digits so far
  http10: bool;
  keepAlive: bool;
  lengthDone: bool; // whitespace after the Content-Length digits: no digit may follow
  pad0: u8; // to 40 bytes: every slot's record stays 8-byte aligned
  pad1: u32;
}

/** Readies `sc` for a new head. */
export function resetScan(sc: HelloScan): void {
  sc.state = S.START;
  sc.pos = 0;
  sc.length = -1;
}

/** Scans the head at [p, p+len) from where the last call stopped (the same first byte, len
 *  only grows). Returns the head's length once its empty line has ended it, INCOMPLETE, or
 *  -status: 400, 414, 431, 501, 505. */
export function scanHead(sc: HelloScan, p: usize, len: i32): i32 {
  const end = min(len, MAX_HEAD);
  let i = sc.pos;
  while (i < end) {
    const st = sc.state;
    if (st == S.VALUE) {
      // The hot loop: field-value bytes until the CR.
      while (i < end && !isCtl(load<u8>(p + <usize>i))) i++;
      if (i == end) break;
      if (load<u8>(p + <usize>i) != CR) return -400;
      if (sc.kind == Kind.CONNECTION) connection(sc, p, i);
      sc.state = S.FIELD_LF;
    } else if (st == S.NAME) {
      while (i < end && isTchar(load<u8>(p + <usize>i))) i++;
      if (i == end) break;
      if (load<u8>(p + <usize>i) != COLON) return -400; // SP before the colon, or no colon
      const r = nameEnd(sc, p, i);
      if (r < 0) return r;
    } else if (st == S.TARGET || st == S.METHOD) {
      i = requestWord(sc, p, i, end);
      if (i < 0) return i;
      if (i == end) break;
    } else if (st == S.VERSION && i == sc.mark && end - i > 8 && wholeVersion(sc, p, i)) {
      i += 8; // the usual version and its CR in one compare; the LF is next
    } else {
      const r = edge(sc, load<u8>(p + <usize>i), p, i);
      if (r < 0) return r;
      if (sc.state == S.DONE) return i + 1;
    }
    i++;
  }
  sc.pos = i;
  if (len < MAX_HEAD) return INCOMPLETE;
  return sc.state <= S.LINE_LF ? -414 : -431;
}

/** The fast path of versionByte(): "HTTP/1.1" or "HTTP/1.0" and its CR at i, read at once.
 *  False (nothing changed) for anything else, which versionByte() then judges byte by byte. */
function wholeVersion(sc: HelloScan, p: usize, i: i32): bool {
  const v = load<u64>(p + <usize>i);
  if ((v != HTTP11 && v != HTTP10) || load<u8>(p + <usize>i + 8) != CR) return false;
  sc.http10 = v == HTTP10;
  sc.keepAlive = !sc.http10;
  sc.state = S.LINE_LF;
  return true;
}

/** The method or the target, up to the SP after it (at the returned offset, or `end`). */
function requestWord(sc: HelloScan, p: usize, i: i32, end: i32): i32 {
  if (sc.state == S.METHOD) {
    while (i < end && isTchar(load<u8>(p + <usize>i))) i++;
    if (i == end) return i;
    if (load<u8>(p + <usize>i) != SP) return -400;
    sc.methodLen = i;
    sc.mark = i + 1;
    sc.state = S.TARGET;
    return i;
  }
  while (i < end && isTargetByte(load<u8>(p + <usize>i))) i++;
  if (i == end) return i;
  if (load<u8>(p + <usize>i) != SP || i == sc.mark) return -400; // a CTL, or an empty target
  sc.mark = i + 1;
  sc.state = S.VERSION;
  return i;
}

/** One byte in a state that takes bytes one at a time. 0, or -status. */
function edge(sc: HelloScan, c: u8, p: usize, i: i32): i32 {
  switch (sc.state) {
    case S.START:
      // A CR may start an empty line before the request line (RFC 9112 2.2); the caller
      // consumes a whole CRLF before scanning, so a LF never reaches LEAD_LF.
      if (c == CR) {
        sc.state = S.LEAD_LF;
        return 0;
      }
      if (!isTchar(c)) return -400;
      sc.state = S.METHOD;
      return 0;
    case S.VERSION:
      return versionByte(sc, c, p, i - sc.mark);
    case S.LENGTH:
      return lengthByte(sc, c);
    case S.FIELD:
      if (c == CR) {
        sc.state = S.END_LF;
        return 0;
      }
      if (!isTchar(c)) return -400; // obs-fold, whitespace before a field, an empty name
      sc.mark = i;
      sc.state = S.NAME;
      return 0;
    case S.LINE_LF:
    case S.FIELD_LF:
      if (c != LF) return -400;
      sc.state = S.FIELD;
      return 0;
    case S.END_LF:
      if (c != LF) return -400;
      sc.state = S.DONE;
      return 0;
    default: // LEAD_LF: a CR not followed by LF
      return -400;
  }
}

/** Byte `k` of the version: "HTTP/" DIGIT "." DIGIT, then CR. The CR makes it well-formed:
 *  a version other than 1.0 and 1.1 is 505 there, whatever follows. */
function versionByte(sc: HelloScan, c: u8, p: usize, k: i32): i32 {
  if (k < 5) return c == load<u8>(HTTP_SLASH.ptr + <usize>k) ? 0 : -400;
  if (k == 5 || k == 7) return isDigit(c) ? 0 : -400;
  if (k == 6) return c == 0x2e ? 0 : -400;
  if (c != CR) return -400;
  const v = load<u64>(p + <usize>sc.mark);
  if (v != HTTP10 && v != HTTP11) return -505;
  sc.http10 = v == HTTP10;
  sc.keepAlive = !sc.http10;
  sc.state = S.LINE_LF;
  return 0;
}

/** A field name ended at the colon at i: Transfer-Encoding is refused at once, a second
 *  Content-Length too; Content-Length's value is read digit by digit. */
function nameEnd(sc: HelloScan, p: usize, i: i32): i32 {
  const name = p + <usize>sc.mark;
  const nlen = i - sc.mark;
  sc.kind = Kind.OTHER;
  sc.state = S.VALUE;
  sc.mark = i + 1;
  // The three names that matter have different lengths: one comparison picks the candidate.
  if (nlen == H_TRANSFER_ENCODING.len) {
    if (equalsLower(name, nlen, H_TRANSFER_ENCODING)) return -501;
  } else if (nlen == H_CONTENT_LENGTH.len) {
    if (equalsLower(name, nlen, H_CONTENT_LENGTH)) {
      if (sc.length >= 0) return -400;
      sc.length = 0;
      sc.digits = 0;
      sc.lengthDone = false;
      sc.state = S.LENGTH;
    }
  } else if (nlen == H_CONNECTION.len && equalsLower(name, nlen, H_CONNECTION)) {
    sc.kind = Kind.CONNECTION;
  }
  return 0;
}

/** Content-Length: OWS 1*15DIGIT OWS, one byte at a time. */
function lengthByte(sc: HelloScan, c: u8): i32 {
  if (isOws(c)) {
    if (sc.digits > 0) sc.lengthDone = true;
    return 0;
  }
  if (isDigit(c)) {
    if (sc.lengthDone || ++sc.digits > 15) return -400;
    sc.length = sc.length * 10 + <i64>(c - 0x30);
    return 0;
  }
  if (c != CR || sc.digits == 0) return -400;
  sc.state = S.FIELD_LF;
  return 0;
}

/** A Connection value ended (its CR at i): "close" ends the connection after the response,
 *  otherwise "keep-alive" keeps it; the last such field decides. */
function connection(sc: HelloScan, p: usize, i: i32): void {
  const v = p + <usize>sc.mark;
  const n = i - sc.mark;
  if (hasToken(v, n, "close")) sc.keepAlive = false;
  else if (hasToken(v, n, "keep-alive")) sc.keepAlive = true;
}

/** True when the comma-separated list at [p, p+len) holds `token` (ASCII, case-insensitive). */
function hasToken(p: usize, len: i32, token: string): bool {
  const tlen = token.length;
  let i = 0;
  while (i < len) {
    while (i < len && (load<u8>(p + <usize>i) == 0x2c || isOws(load<u8>(p + <usize>i)))) i++;
    let j = i;
    while (j < len && load<u8>(p + <usize>j) != 0x2c) j++;
    let e = j;
    while (e > i && isOws(load<u8>(p + <usize>e - 1))) e--;
    if (e - i == tlen) {
      let same = true;
      for (let k = 0; k < tlen; k++) {
        if ((load<u8>(p + <usize>(i + k)) | 0x20) != <u8>token.charCodeAt(k)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    i = j + 1;
  }
  return false;
}
