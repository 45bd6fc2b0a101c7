// Formatting a response's head and encoding its text: the status line, Date, the app's header lines, the framing
// lines and the empty line, written in one piece wherever the caller says (straight into the
// connection's output when it has room). Allocates nothing: the last status line is kept
// formatted, Date comes formatted from date.ts, numbers are written in place.

import { copyBytes } from "../bytes";
import { ByteBuf } from "./buffers";
import { dateGeneration, dateLine, DATE_LINE_BYTES } from "./date";
import { lineAt, lineBytes, lineLen, literalEntry, putLine } from "./literal-lines";
import { putAscii, putDecimal } from "./put";
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

// Status lines, each formatted the first time it is sent and copied from its row after: a
// handler that answers several statuses (200, 404, ...) formats each once, not at every change.
const FIRST_CODE = 200; // Response.status() and the SDK's own answers: 200-599
const LAST_CODE = 599;
const ROW = 48; // "HTTP/1.1 " + 3 digits + SP + a reason of at most 31 characters + CRLF
const ROWS: usize = memory.data((LAST_CODE - FIRST_CODE + 1) * ROW, 8);
const ROW_BYTES: usize = memory.data(LAST_CODE - FIRST_CODE + 1); // 0: not formatted yet
const OTHER: usize = memory.data(ROW); // a code outside the table, formatted each time
let statusBytes: i32 = 0;

/** The status line of `code`; its length in statusBytes. */
function statusLine(code: i32): usize {
  if (code < FIRST_CODE || code > LAST_CODE) {
    statusBytes = formatStatus(OTHER, code);
    return OTHER;
  }
  const row = <usize>(code - FIRST_CODE);
  const at = ROWS + row * ROW;
  let n = <i32>load<u8>(ROW_BYTES + row);
  if (n == 0) {
    n = formatStatus(at, code);
    store<u8>(ROW_BYTES + row, <u8>n);
  }
  statusBytes = n;
  return at;
}

function formatStatus(at: usize, code: i32): i32 {
  let n = putAscii(at, "HTTP/1.1 ");
  n += putDecimal(at + <usize>n, <u64>code);
  store<u8>(at + <usize>n, 0x20);
  n++;
  n += putAscii(at + <usize>n, reason(code));
  return n + putAscii(at + <usize>n, "\r\n");
}

const CONTENT_LENGTH = memory.data<u8>([
  0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20,
]); // "Content-Length: "

/** Writes a head at `at`: status `code`, Date, the literal lines packed in `lits`
 *  (putLiterals), `lines` (the app's other header lines), the framing lines (Content-Length:
 *  `total` for Framed.LENGTH) and the empty line; at most HEAD_FIXED_MAX + the lines' bytes.
 *  Returns its length. */
export function putHead(
  code: i32,
  framed: Framed,
  closeAfter: bool,
  http10: bool,
  lits: u64,
  lines: ByteBuf,
  total: i64,
  at: usize,
): i32 {
  let n = putStart(code, lits, lines, at);
  const p = at + <usize>n;
  let k = 0;
  if (framed == Framed.LENGTH) {
    k = copyBytes(p, CONTENT_LENGTH, 16);
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

// The start of the last head whose header lines were all literal (status line, Date, lines),
// kept formatted: a handler that answers alike every time has it copied in one piece until
// the status, the lines or the second of its Date change.
const START_MAX = 64 + DATE_LINE_BYTES + 8 * 120;
const START: usize = memory.data(START_MAX, 8);
let startBytes: i32 = 0;
let startCode: i32 = 0;
let startLits: u64 = 0;
let startDate: i32 = -1;

/** The status line, Date and header lines at `at`; returns their length. */
function putStart(code: i32, lits: u64, lines: ByteBuf, at: usize): i32 {
  const date = dateLine(); // first: its generation moves when the second changes
  const same = code == startCode && lits == startLits && dateGeneration == startDate;
  if (lines.length == 0 && same) return copyBytes(at, START, startBytes);
  const status = statusLine(code);
  let n = copyBytes(at, status, statusBytes);
  n += copyBytes(at + <usize>n, date, DATE_LINE_BYTES);
  n += putLiterals(at + <usize>n, lits);
  if (lines.length > 0) return n + copyBytes(at + <usize>n, lines.data, lines.length);
  if (n <= START_MAX) {
    copyBytes(START, at, n);
    startBytes = n;
    startCode = code;
    startLits = lits;
    startDate = dateGeneration;
  }
  return n;
}

/** Bytes of header lines a response may stage; more is a handler error. */
const HEAD_MAX: i32 = 16384;

/** "name: value\r\n", UTF-8, appended to `b`; false past HEAD_MAX. The pair must be the one
 *  checkHeaderCached() was last given: a literal pair's line is copied from its entry. */
export function appendLine(b: ByteBuf, name: string, value: string): bool {
  const e = literalEntry;
  if (e >= 0) return b.length + lineLen(e) <= HEAD_MAX && b.append(lineAt(e), lineLen(e));
  const n = lineBytes(name, value);
  if (b.length + n > HEAD_MAX || !b.reserve(n)) return false;
  putLine(b.ptr + <usize>b.end, name, value);
  b.end += n;
  return true;
}

/** Writes the lines of literal entries packed in `lits` (entry + 1 per byte, first line in
 *  the lowest byte) at `at`; returns their length. */
export function putLiterals(at: usize, lits: u64): i32 {
  let n = 0;
  for (; lits != 0; lits >>= 8) {
    const e = <i32>(lits & 0xff) - 1;
    n += copyBytes(at + <usize>n, lineAt(e), lineLen(e));
  }
  return n;
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
