// Byte classes of the HTTP grammar, one table lookup per byte: token characters (RFC 9110
// 5.6.2), field-value bytes (RFC 9110 5.5), request-target bytes (RFC 3986, as RFC 9112 3.2
// allows them), hex digits, multipart boundary characters (RFC 2046 5.1.1), and hello's looser
// request-target (limits.ts useHelloRules).

/** tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA. Methods, field names, codings, parameters. */
export const TCHAR: u8 = 1;
/** field-vchar / SP / HTAB: VCHAR 0x21-0x7E, obs-text 0x80-0xFF, SP, HTAB. No CTL, no NUL. */
export const VALUE: u8 = 2;
/** request-target: unreserved / sub-delims / ":" / "@" / "/" / "?" / "[" / "]" / "%". No "#":
 *  a fragment is never sent in a request. */
export const TARGET: u8 = 4;
/** HEXDIG, either case. */
export const HEX: u8 = 8;
/** bchars of a multipart boundary: DIGIT / ALPHA / "'()+_,-./:=?" and SP. */
export const BCHAR: u8 = 16;
/** unreserved / sub-delims / "%": the bytes of a reg-name (the host part of Host). */
export const REGNAME: u8 = 32;
/** hello's request-target (its smaller rule set): any byte but SP and CTL, HTAB and obs-text
 *  included. */
export const ANY_TARGET: u8 = 64;

export const CR: u32 = 0x0d;
export const LF: u32 = 0x0a;
export const SP: u32 = 0x20;
export const HTAB: u32 = 0x09;
export const COLON: u32 = 0x3a;
export const SEMI: u32 = 0x3b;
export const COMMA: u32 = 0x2c;
export const EQUALS: u32 = 0x3d;
export const DQUOTE: u32 = 0x22;
export const BACKSLASH: u32 = 0x5c;
export const SLASH: u32 = 0x2f;
export const QUESTION: u32 = 0x3f;
export const PERCENT: u32 = 0x25;

const TABLE: usize = memory.data(256);

function mark(chars: string, cls: u8): void {
  for (let i = 0; i < chars.length; i++) {
    const c = <usize>chars.charCodeAt(i);
    store<u8>(TABLE + c, load<u8>(TABLE + c) | cls);
  }
}

function markRange(from: u32, to: u32, cls: u8): void {
  for (let c = from; c <= to; c++) store<u8>(TABLE + <usize>c, load<u8>(TABLE + <usize>c) | cls);
}

/** Fills the table once, at start-up (top-level code runs in _initialize). */
function fill(): void {
  const alnum = TCHAR | TARGET | BCHAR | REGNAME;
  markRange(0x30, 0x39, alnum | HEX);
  markRange(0x41, 0x5a, alnum);
  markRange(0x61, 0x7a, alnum);
  markRange(0x41, 0x46, HEX);
  markRange(0x61, 0x66, HEX);
  mark("!#$%&'*+-.^_`|~", TCHAR);
  markRange(0x21, 0x7e, VALUE | ANY_TARGET);
  markRange(0x80, 0xff, VALUE | ANY_TARGET);
  mark(" \t", VALUE);
  mark("\t", ANY_TARGET);
  mark("-._~!$&'()*+,;=:@/?[]%", TARGET);
  mark("-._~!$&'()*+,;=%", REGNAME);
  mark("'()+_,-./:=? ", BCHAR);
}
fill();

/** True when byte `c` is in class `cls` (a bit above). */
// @ts-ignore: decorator
@inline export function isClass(c: u32, cls: u8): bool {
  return (load<u8>(TABLE + <usize>c) & cls) != 0;
}

// @ts-ignore: decorator
@inline export function isTchar(c: u32): bool {
  return isClass(c, TCHAR);
}
// @ts-ignore: decorator
@inline export function isOws(c: u32): bool {
  return c == SP || c == HTAB;
}
// @ts-ignore: decorator
@inline export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/** The value of hex digit `c` (which must be one). */
// @ts-ignore: decorator
@inline export function hexValue(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/** ASCII lower case of byte `c`. */
// @ts-ignore: decorator
@inline export function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}
