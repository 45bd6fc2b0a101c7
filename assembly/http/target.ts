// The four forms of request-target (RFC 9112 3.2) and where the path and query are. The bytes
// were checked by scan.ts (RFC 3986 characters, well-formed %XX); this checks the form against
// the method: origin-form ("/path?query") for most, absolute-form ("http://host/path") for any
// method, authority-form ("host:port") only and always for CONNECT, asterisk-form ("*") only for
// OPTIONS.

import { COLON, QUESTION, REGNAME, SLASH, HEX, isClass, isDigit, lower } from "./chars";

export const enum Form {
  ORIGIN = 0,
  ABSOLUTE,
  AUTHORITY,
  ASTERISK,
}

/** The parts of a target, as offsets from the head's first byte. */
@final
export class Target {
  form: Form = Form.ORIGIN;
  pathAt: i32 = 0;
  pathLen: i32 = 0;
  queryAt: i32 = -1; // after the "?", or -1 without one
  queryLen: i32 = 0;
}

/** Classifies the target at [p+at, p+at+len) for a CONNECT or OPTIONS request (or neither);
 *  fills `t` and returns 0, or 400. */
export function parseTarget(
  t: Target,
  p: usize,
  at: i32,
  len: i32,
  connect: bool,
  options: bool,
): i32 {
  t.queryAt = -1;
  t.queryLen = 0;
  const first = <u32>load<u8>(p + <usize>at);
  if (connect) {
    t.form = Form.AUTHORITY;
    t.pathAt = at;
    t.pathLen = 0;
    return validHost(p, at, at + len, true) ? 0 : 400;
  }
  if (first == SLASH) {
    t.form = Form.ORIGIN;
    splitPath(t, p, at, at + len);
    return 0;
  }
  if (len == 1 && first == 0x2a) {
    t.form = Form.ASTERISK;
    t.pathAt = at;
    t.pathLen = 0;
    return options ? 0 : 400;
  }
  t.form = Form.ABSOLUTE;
  return absolute(t, p, at, at + len);
}

/** scheme "://" authority [path-abempty] ["?" query]; userinfo ("@") is refused (RFC 9110
 *  4.2.4), and so is an empty host. */
function absolute(t: Target, p: usize, at: i32, end: i32): i32 {
  let i = at;
  if (lower(<u32>load<u8>(p + <usize>i)) - 0x61 >= 26) return 400;
  while (i < end && isSchemeChar(<u32>load<u8>(p + <usize>i))) i++;
  if (end - i < 3 || <u32>load<u8>(p + <usize>i) != COLON) return 400;
  if (<u32>load<u8>(p + <usize>i + 1) != SLASH || <u32>load<u8>(p + <usize>i + 2) != SLASH)
    return 400;
  const host = i + 3;
  let e = host;
  while (e < end && <u32>load<u8>(p + <usize>e) != SLASH && <u32>load<u8>(p + <usize>e) != QUESTION)
    e++;
  if (e == host || !validHost(p, host, e, false)) return 400;
  splitPath(t, p, e, end);
  return 0;
}

function isSchemeChar(c: u32): bool {
  return lower(c) - 0x61 < 26 || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e;
}

/** Path up to the first "?", query after it. An empty path (absolute-form without one) stays
 *  empty; Request.path reports it as "/". */
function splitPath(t: Target, p: usize, at: i32, end: i32): void {
  let q = at;
  while (q < end && <u32>load<u8>(p + <usize>q) != QUESTION) q++;
  t.pathAt = at;
  t.pathLen = q - at;
  if (q < end) {
    t.queryAt = q + 1;
    t.queryLen = end - q - 1;
  }
}

/** uri-host [":" port] (RFC 3986 3.2.2): a reg-name or IPv4 address, or an IP literal in
 *  brackets; the port is digits. With `needPort` the port must be there (authority-form). */
export function validHost(p: usize, at: i32, end: i32, needPort: bool): bool {
  let i = at;
  if (i < end && <u32>load<u8>(p + <usize>i) == 0x5b) {
    i++;
    while (i < end && isLiteralChar(<u32>load<u8>(p + <usize>i))) i++;
    if (i == end || <u32>load<u8>(p + <usize>i) != 0x5d || i == at + 1) return false;
    i++;
  } else {
    i = regName(p, i, end);
    if (i < 0 || (needPort && i == at)) return false;
  }
  if (i == end) return !needPort;
  if (<u32>load<u8>(p + <usize>i) != COLON) return false;
  i++;
  if (needPort && i == end) return false;
  while (i < end && isDigit(<u32>load<u8>(p + <usize>i))) i++;
  return i == end;
}

/** The end of the reg-name or IPv4 address from `i`, or -1 for a malformed %XX. */
function regName(p: usize, i: i32, end: i32): i32 {
  while (i < end) {
    const c = <u32>load<u8>(p + <usize>i);
    if (!isClass(c, REGNAME)) break;
    if (c == 0x25) {
      if (
        end - i < 3 ||
        !isClass(<u32>load<u8>(p + <usize>i + 1), HEX) ||
        !isClass(<u32>load<u8>(p + <usize>i + 2), HEX)
      )
        return -1;
      i += 2;
    }
    i++;
  }
  return i;
}

/** IPv6 and IPvFuture literal bytes, loosely: hex digits, ":", ".", "v". */
function isLiteralChar(c: u32): bool {
  return isClass(c, HEX) || c == COLON || c == 0x2e || (c | 0x20) == 0x76;
}
