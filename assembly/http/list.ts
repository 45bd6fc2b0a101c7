// Lists in field values (RFC 9110 5.6.1: `#element`), for the head's checks at the end of a
// line (early.ts).

import { COMMA, isOws, isTchar } from "./chars";

// The list element nextElement() found: [elAt, elEnd), trimmed of whitespace.
export let elAt = 0;
export let elEnd = 0;

/** Finds the list element starting at i before `end`; returns where the next one starts.
 *  Empty elements are found too (and skipped by the callers, as 5.6.1 asks). */
export function nextElement(p: usize, i: i32, end: i32): i32 {
  while (i < end && isOws(<u32>load<u8>(p + <usize>i))) i++;
  let j = i;
  while (j < end && <u32>load<u8>(p + <usize>j) != COMMA) j++;
  let e = j;
  while (e > i && isOws(<u32>load<u8>(p + <usize>e - 1))) e--;
  elAt = i;
  elEnd = e;
  return j + 1;
}

/** Where the run of token characters starting at i ends (at most `end`). */
export function tokenEnd(p: usize, i: i32, end: i32): i32 {
  while (i < end && isTchar(<u32>load<u8>(p + <usize>i))) i++;
  return i;
}
