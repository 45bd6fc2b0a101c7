// Formatting a response's head and encoding its text: the status line, Date, the app's header lines, the framing
// lines and the empty line, written in one piece wherever the caller says (straight into the
// connection's output when it has room). Allocates nothing: the last status line is kept
// formatted, Date comes formatted from date.ts, numbers are written in place.

import { ByteBuf } from "./buffers";
import { dateLine, DATE_LINE_BYTES } from "./date";
import { checkHeader, Reserved } from "./headers";
import { putAscii, putBytes, putDecimal } from "./put";
import { reason } from "./status";

export const enum Framed {
  PENDING = 0,
  LENGTH,
  CHUNKED,
  CLOSE,
  NONE,
}

/** The most bytes putHead writes besides the app's header lines: a status line (its reason is
 *  at most 31 characters), Date, Content-Length with 20 digits, a Connection line, CRLF. */
export const HEAD_FIXED_MAX: i32 = 64 + DATE_LINE_BYTES + 40 + 24 + 2;

const STATUS: usize = memory.data(64); // the last status line formatted
let statusCode: i32 = 0;
let statusBytes: i32 = 0;

function statusLine(code: i32): void {
  if (code == statusCode) return;
  let n = putAscii(STATUS, "HTTP/1.1 ");
  n += putDecimal(STATUS + <usize>n, <u64>code);
  store<u8>(STATUS + <usize>n, 0x20);
  n++;
  n += putAscii(STATUS + <usize>n, reason(code));
  n += putAscii(STATUS + <usize>n, "\r\n");
  statusCode = code;
  statusBytes = n;
}

const CONTENT_LENGTH = memory.data<u8>([
  0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20,
]); // "Content-Length: "

/** Writes a head at `at`: status `code`, Date, `lines` (the app's header lines), the framing
 *  lines (Content-Length: `total` for Framed.LENGTH) and the empty line; at most
 *  HEAD_FIXED_MAX + lines.length bytes. Returns its length. */
export function putHead(
  code: i32,
  framed: Framed,
  closeAfter: bool,
  http10: bool,
  lines: ByteBuf,
  total: i64,
  at: usize,
): i32 {
  statusLine(code);
  let n = putBytes(at, STATUS, statusBytes);
  n += putBytes(at + <usize>n, dateLine(), DATE_LINE_BYTES);
  if (lines.length > 0) n += putBytes(at + <usize>n, lines.data, lines.length);
  const p = at + <usize>n;
  let k = 0;
  if (framed == Framed.LENGTH) {
    k = putBytes(p, CONTENT_LENGTH, 16);
    k += putDecimal(p + <usize>k, <u64>total);
    store<u16>(p + <usize>k, 0x0a0d); // CRLF
    k += 2;
  } else if (framed == Framed.CHUNKED) {
    k = putAscii(p, "Transfer-Encoding: chunked\r\n");
  }
  if (closeAfter) k += putAscii(p + <usize>k, "Connection: close\r\n");
  else if (http10) k += putAscii(p + <usize>k, "Connection: keep-alive\r\n");
  store<u16>(p + <usize>k, 0x0a0d);
  return n + k + 2;
}

/** Bytes of header lines a response may stage; more is a handler error. */
const HEAD_MAX: i32 = 16384;

/** "name: value\r\n", UTF-8, appended to `b`; false past HEAD_MAX. The pair must be the one
 *  checkHeaderCached() was last given: a literal pair's line comes encoded from its cache. */
export function appendLine(b: ByteBuf, name: string, value: string): bool {
  if (lineLen > 0) return b.length + lineLen <= HEAD_MAX && b.append(lineAt, lineLen);
  const n = lineBytes(name, value);
  if (b.length + n > HEAD_MAX || !b.reserve(n)) return false;
  putLine(b.ptr + <usize>b.end, name, value);
  b.end += n;
  return true;
}

function lineBytes(name: string, value: string): i32 {
  return name.length + 2 + String.UTF8.byteLength(value) + 2;
}

/** Writes "name: value\r\n" at `at` (the name is a checked token: ASCII). */
function putLine(at: usize, name: string, value: string): void {
  at += <usize>putAscii(at, name);
  store<u16>(at, 0x203a); // ": "
  at += 2;
  at += String.UTF8.encodeUnsafe(changetype<usize>(value), value.length, at);
  store<u16>(at, 0x0a0d);
}

// Header lines already checked, for names and values that are string literals: those live in
// the module's static data, below __heap_base, so they never change and their address is never
// reused for other text (a heap string's can be, once collected). Any other pair is checked.
// Each remembered pair keeps its line encoded (up to LINE_MAX bytes), so a response that sets
// the same literal header every time copies it instead of encoding it again.
const CHECKED = 8;
const LINE_MAX = 120;
const checkedNames: usize = memory.data(CHECKED * sizeof<usize>(), 8);
const checkedValues: usize = memory.data(CHECKED * sizeof<usize>(), 8);
const checkedLines: usize = memory.data(CHECKED * LINE_MAX, 8);
const checkedLineLens: usize = memory.data(CHECKED * sizeof<i32>(), 4);
let nextChecked: i32 = 0;
/** The encoded line of the pair checkHeaderCached() was last given, or lineLen 0 if none. */
let lineAt: usize = 0;
let lineLen: i32 = 0;

/** checkHeader(), remembering literal pairs that are ordinary (Reserved.NONE). */
export function checkHeaderCached(name: string, value: string): Reserved {
  const np = changetype<usize>(name);
  const vp = changetype<usize>(value);
  const literal = np < __heap_base && vp < __heap_base;
  lineLen = 0;
  if (literal) {
    for (let i = 0; i < CHECKED; i++) {
      const e = <usize>(i * sizeof<usize>());
      if (load<usize>(checkedNames + e) == np && load<usize>(checkedValues + e) == vp) {
        lineAt = checkedLines + <usize>(i * LINE_MAX);
        lineLen = load<i32>(checkedLineLens + <usize>(i * sizeof<i32>()));
        return Reserved.NONE;
      }
    }
  }
  const kind = checkHeader(name, value);
  if (literal && kind == Reserved.NONE) remember(name, value);
  return kind;
}

/** Keeps a checked literal pair, and its line when it fits. */
function remember(name: string, value: string): void {
  const i = nextChecked;
  const e = <usize>(i * sizeof<usize>());
  store<usize>(checkedNames + e, changetype<usize>(name));
  store<usize>(checkedValues + e, changetype<usize>(value));
  const n = lineBytes(name, value);
  const fits = n <= LINE_MAX;
  if (fits) putLine(checkedLines + <usize>(i * LINE_MAX), name, value);
  store<i32>(checkedLineLens + <usize>(i * sizeof<i32>()), fits ? n : 0);
  nextChecked = (i + 1) % CHECKED;
}

/** A shared buffer for encoding strings; reused, never given back. */
export const scratch = new ByteBuf();
/** A shared buffer for a head the output cannot take at once; reused, never given back. */
const headOut = new ByteBuf();

/** Encodes `s` as UTF-8 into `scratch`; its length, or -1 past the memory cap. */
export function encode(s: string): i32 {
  const n = String.UTF8.byteLength(s);
  scratch.reset();
  if (n == 0) return 0;
  if (!scratch.reserve(n)) return -1;
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, scratch.ptr);
  return n;
}

/** Room for a head of `need` bytes that cannot be formatted in the output, or 0 past the
 *  memory cap. */
export function headScratch(need: i32): usize {
  headOut.reset();
  return headOut.reserve(need) ? headOut.ptr : 0;
}
