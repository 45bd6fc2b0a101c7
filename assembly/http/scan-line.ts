// The request line of a head (RFC 9112 3), byte by byte for scan.ts's scanHead, resuming where
// the last call stopped; its choices and statuses are the ones scan.ts's header lists. The
// common shapes take tight paths (the usual line whole from its first byte, a run of plain
// target bytes, "HTTP/1.1" read with one compare) that end in the state the byte-by-byte
// checks would reach. Under hello's rules
// (limits.ts useHelloRules) the target is any bytes but SP and CTL, with no %XX check.

import { CR, HEX, LF, PERCENT, SP, isClass, isDigit, isTchar } from "./chars";
import { helloRules, maxMethodBytes, maxTargetBytes, targetClass } from "./limits";
import { Head, Scan } from "./scan-state";

const HTTP_SLASH: u64 = 0x2f50545448; // "HTTP/" little-endian, for the version check

/** Request-line bytes from i until the line ends or `end`; the new offset or -status. */
export function scanLine(s: Scan, p: usize, i: i32, end: i32): i32 {
  if (s.state == Head.START && i < end) {
    i = usualLine(s, p, i, end);
    if (s.state == Head.FIELD) return i;
  }
  return lineBytes(s, p, i, end);
}

/** scanLine's byte-by-byte checks, from i in any request-line state. */
function lineBytes(s: Scan, p: usize, i: i32, end: i32): i32 {
  for (; i < end; i++) {
    if (s.state == Head.TARGET) {
      i = targetRun(s, p, i, end);
      if (i == end) break;
    } else if (s.state == Head.VERSION && i == s.version && usualVersion(s, p, i, end)) {
      i += 8; // at the CR
      if (i + 1 < end && <u32>load<u8>(p + <usize>i + 1) == LF) {
        s.state = Head.FIELD; // the usual LF, as lineEdge would take it
        return i + 2;
      }
      continue; // the loop's i++ passes the CR
    }
    const c = <u32>load<u8>(p + <usize>i);
    const st = s.state;
    if (st == Head.TARGET) {
      if (c == SP) {
        if (i == s.target) return -400;
        s.version = i + 1;
        s.state = Head.VERSION;
        continue;
      }
      if (i - s.target >= maxTargetBytes) return pastLongestTarget(c);
      if (c == PERCENT && !helloRules) s.state = Head.PCT1;
      else if (!isClass(c, targetClass)) return -400;
    } else if (st == Head.METHOD) {
      if (c == SP) {
        s.target = i + 1;
        s.state = Head.TARGET;
        continue;
      }
      if (!isTchar(c)) return -400;
      if (i - s.method >= maxMethodBytes) return -501;
    } else {
      const r = lineEdge(s, c, i);
      if (r < 0) return r;
      if (s.state == Head.FIELD) return i + 1;
    }
  }
  return i;
}

/** The request line from its first byte at i, in one pass without a state store per byte:
 *  the method's tchars, SP, a run of plain target bytes, SP, "HTTP/1.1" or "HTTP/1.0", CR, LF.
 *  Where the line is anything else, or not all here, it stops at the byte it cannot take in
 *  the state (and with the offsets) the byte-by-byte checks would have reached there, and
 *  returns that byte's offset: scanLine's loop goes on from it, so each byte is read once. A
 *  first byte that is no tchar (CR of an empty line, or an error) is left to that loop too. */
function usualLine(s: Scan, p: usize, i: i32, end: i32): i32 {
  if (!isTchar(<u32>load<u8>(p + <usize>i))) return i;
  s.method = i;
  s.state = Head.METHOD;
  // Method bytes past max-method-bytes are METHOD's to refuse (501), as byte by byte.
  const methodRun = min(end, i + maxMethodBytes);
  let m = i + 1;
  while (m < methodRun && isTchar(<u32>load<u8>(p + <usize>m))) m++;
  if (m == end || <u32>load<u8>(p + <usize>m) != SP) return m;
  const t = m + 1;
  s.target = t;
  s.state = Head.TARGET;
  const e = targetRun(s, p, t, end);
  if (e == end || e == t || <u32>load<u8>(p + <usize>e) != SP) return e;
  const v = e + 1;
  s.version = v;
  s.state = Head.VERSION;
  if (!usualVersion(s, p, v, end)) return v;
  // LINE_LF at the CR, as scanLine takes it: its LF, when here, ends the line.
  if (v + 9 < end && <u32>load<u8>(p + <usize>v + 9) == LF) {
    s.state = Head.FIELD;
    return v + 10;
  }
  return v + 9;
}

/** Plain target bytes from i (no "%", within max-target-bytes), in one tight loop; the byte
 *  that stops it is left to scanLine's checks, which decide as they would byte by byte (under
 *  hello's rules a "%" is a plain byte there, and the run resumes after it). */
function targetRun(s: Scan, p: usize, i: i32, end: i32): i32 {
  const run = min(end, s.target + maxTargetBytes);
  while (i < run) {
    const c = <u32>load<u8>(p + <usize>i);
    if (c == PERCENT || !isClass(c, targetClass)) break;
    i++;
  }
  return i;
}

/** The byte after max-target-bytes of target: one that would make the target longer is 414
 *  (a "%" escape the limit cuts short included), but SP, CR or LF ends the target there, which
 *  is then judged as it is: 400 for an unfinished "%" escape (SP in the target state is taken
 *  before), and for a request line with no version (CR, LF). */
function pastLongestTarget(c: u32): i32 {
  return c == CR || c == LF || c == SP ? -400 : -414;
}

const HTTP_11: u64 = 0x312e312f50545448; // "HTTP/1.1" little-endian
const HTTP_10: u64 = 0x302e312f50545448; // "HTTP/1.0"

/** "HTTP/1.1" or "HTTP/1.0" and its CR at i, read with one compare: the state versionByte
 *  would reach byte by byte (LINE_LF). False, with nothing changed, for anything else. */
function usualVersion(s: Scan, p: usize, i: i32, end: i32): bool {
  if (end - i < 9 || <u32>load<u8>(p + <usize>i + 8) != CR) return false;
  const v = load<u64>(p + <usize>i);
  if (v != HTTP_11 && v != HTTP_10) return false;
  s.major = 1;
  s.minor = v == HTTP_11 ? 1 : 0;
  s.state = Head.LINE_LF;
  return true;
}

/** The request line's other states: start, skipped empty lines, a %XX's digits, version,
 *  final LF. */
function lineEdge(s: Scan, c: u32, i: i32): i32 {
  switch (s.state) {
    case Head.PCT1:
    case Head.PCT2:
      if (i - s.target >= maxTargetBytes) return pastLongestTarget(c);
      if (!isClass(c, HEX)) return -400;
      s.state = s.state == Head.PCT1 ? Head.PCT2 : Head.TARGET;
      return 0;
    case Head.START:
      if (c == CR) {
        s.state = Head.LEAD_LF;
        return 0;
      }
      if (!isTchar(c)) return -400;
      s.method = i;
      s.state = Head.METHOD;
      return 0;
    case Head.LEAD_LF:
      if (c != LF) return -400;
      s.state = Head.START;
      return 0;
    case Head.VERSION:
      return versionByte(s, c, i - s.version);
    case Head.LINE_LF:
      if (c != LF) return -400;
      s.state = Head.FIELD;
      return 0;
    default:
      unreachable();
      return -400;
  }
}

/** Byte `k` of "HTTP/" DIGIT "." DIGIT CR (case-sensitive, RFC 9112 2.3). */
function versionByte(s: Scan, c: u32, k: i32): i32 {
  if (k < 5) return c == <u32>((HTTP_SLASH >> ((<u64>k) << 3)) & 0xff) ? 0 : -400;
  if (k == 5 && isDigit(c)) {
    s.major = c - 0x30;
    return 0;
  }
  if (k == 6 && c == 0x2e) return 0;
  if (k == 7 && isDigit(c)) {
    s.minor = c - 0x30;
    return 0;
  }
  // The CR makes the version well-formed: an unsupported one is refused there, whatever
  // follows (HTTP.md: a well-formed version other than 1.0 and 1.1 is 505; anything else 400).
  if (k == 8 && c == CR) {
    if (s.major != 1 || s.minor > 1) return -505;
    s.state = Head.LINE_LF;
    return 0;
  }
  return -400;
}
