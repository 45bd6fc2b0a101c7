// hello's byte classes (RFC 9110 tchar, CTL, target bytes) as a 256-byte table: one load per byte instead of
// a chain of comparisons in the parser's loops.

// @ts-ignore: decorator
@inline export function isDigit(c: u8): bool {
  return c >= 0x30 && c <= 0x39;
}
// @ts-ignore: decorator
@inline export function isOws(c: u8): bool {
  return c == 0x20 || c == 0x09;
}

/** Character classes, one byte per octet (filled by fillClasses from the definitions below):
 *  one load per byte instead of a chain of comparisons. */
const CLASSES = memory.data(256);
const TCHAR: u8 = 1;
const CTL: u8 = 2;
/** A request-target byte for hello: anything but SP and CTL (HTAB and obs-text included). */
const TARGET: u8 = 4;

// @ts-ignore: decorator
@inline export function isTchar(c: u8): bool {
  return (load<u8>(CLASSES + <usize>c) & TCHAR) != 0;
}
// @ts-ignore: decorator
@inline export function isCtl(c: u8): bool {
  return (load<u8>(CLASSES + <usize>c) & CTL) != 0;
}
// @ts-ignore: decorator
@inline export function isTargetByte(c: u8): bool {
  return (load<u8>(CLASSES + <usize>c) & TARGET) != 0;
}

function isCtlSlow(c: u8): bool {
  return (c < 0x20 && c != 0x09) || c == 0x7f;
}

/** RFC 9110 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~". */
function isTcharSlow(c: u8): bool {
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  switch (c) {
    case 0x21:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x27:
    case 0x2a:
    case 0x2b:
    case 0x2d:
    case 0x2e:
    case 0x5e:
    case 0x5f:
    case 0x60:
    case 0x7c:
    case 0x7e:
      return true;
    default:
      return false;
  }
}

/** Fills the table; called once from helloInit. */
export function fillClasses(): void {
  for (let c = 0; c < 256; c++) {
    const ctl = isCtlSlow(<u8>c);
    const target: u8 = ctl || c == 0x20 ? 0 : TARGET;
    store<u8>(CLASSES + <usize>c, (isTcharSlow(<u8>c) ? TCHAR : 0) | (ctl ? CTL : 0) | target);
  }
}
