// The last response end() wrote in one piece whose every part was fixed: its status, header
// lines that were all literal pairs (literal-lines.ts), a string literal for its text, and the
// same framing. A handler that answers a route with a fixed text (a health check, a greeting)
// then has the whole response copied, until the second of its Date changes. A literal's
// address names its text for good (static data, never reused), so that address is the key.

import { copyBytes } from "../bytes";
import { dateGeneration, dateLine } from "./date";

const MAX = 512;
/** The kept response's bytes (keptFor's length of them). */
export const KEPT: usize = memory.data(MAX, 8);
let keptBytes: i32 = 0; // 0: none kept
let keptCode: i32 = 0;
let keptLits: u64 = 0;
let keptText: usize = 0;
let keptShape: i32 = 0;
let keptDate: i32 = -1;
/** The kept response's text length in bytes (its Content-Length). */
export let keptTextBytes: i32 = 0;

/** True for a string literal (static data, below __heap_base). */
// @ts-ignore: decorator
@inline export function isLiteral(s: string): bool {
  return changetype<usize>(s) < __heap_base;
}

/** The kept response's length if it is the one for these parts, in this second; else 0.
 *  `shape` holds what else shapes the bytes (HEAD, close, HTTP/1.0). */
export function keptFor(code: i32, lits: u64, text: string, shape: i32): i32 {
  dateLine(); // its generation moves when the second changes
  if (code != keptCode || lits != keptLits || changetype<usize>(text) != keptText) return 0;
  return shape == keptShape && dateGeneration == keptDate ? keptBytes : 0;
}

/** Keeps the response of `len` bytes just written at `at` for these parts. */
export function keep(
  at: usize,
  len: i32,
  code: i32,
  lits: u64,
  text: string,
  shape: i32,
  textBytes: i32,
): void {
  if (len > MAX) return;
  copyBytes(KEPT, at, len);
  keptBytes = len;
  keptCode = code;
  keptLits = lits;
  keptText = changetype<usize>(text);
  keptShape = shape;
  keptDate = dateGeneration;
  keptTextBytes = textBytes;
}
