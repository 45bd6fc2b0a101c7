// Indexing a complete, already scanned head: where each field line's name and value are, as
// offsets from the head's first byte. It runs only for a request whose field lines are read (a
// Request accessor, or a head kept past its callback), over bytes scan.ts has validated, so it
// only splits; most handlers never read a field, and their requests are never indexed. It
// allocates nothing (the field table is given by the caller, or is the shared one).

import { COLON, CR, isOws } from "./chars";
import { Scan } from "./scan-state";

/** Bytes per field in a field table: name offset, name length, value offset, value length. */
export const FIELD_BYTES: i32 = 16;

/** The table a request being handled is indexed into (room for max-headers fields): one for
 *  every slot, since only the request of the current callback reads it (Request.keep gives a
 *  request that outlives its callback a table of its own). */
export let sharedTable: usize = 0;

/** Allocates sharedTable for heads of up to `maxFields` field lines; once, at start-up. */
export function fieldsInit(maxFields: i32): void {
  sharedTable = heap.alloc(<usize>(maxFields * FIELD_BYTES));
}

/** Fills `table` (room for s.fields entries) from the head at p; the values are trimmed of
 *  leading and trailing whitespace (RFC 9112 5.1). */
export function indexFields(s: Scan, p: usize, table: usize): void {
  let at = s.version + 10; // "HTTP/1.1" CR LF
  for (let f = 0; f < s.fields; f++) {
    let colon = at;
    while (<u32>load<u8>(p + <usize>colon) != COLON) colon++;
    let eol = colon + 1;
    while (<u32>load<u8>(p + <usize>eol) != CR) eol++;
    putFieldName(table, f, at, colon - at);
    putFieldValue(table, f, p, colon + 1, eol);
    at = eol + 2;
  }
}

/** Field f's name: `len` bytes at offset `at`. */
function putFieldName(table: usize, f: i32, at: i32, len: i32): void {
  const e = table + <usize>(f * FIELD_BYTES);
  store<i32>(e, at);
  store<i32>(e, len, 4);
}

/** Field f's value: the bytes from offset `from` to the CR at `cr`, without the whitespace
 *  around them. */
function putFieldValue(table: usize, f: i32, p: usize, from: i32, cr: i32): void {
  let vs = from;
  let ve = cr;
  while (vs < ve && isOws(<u32>load<u8>(p + <usize>vs))) vs++;
  while (ve > vs && isOws(<u32>load<u8>(p + <usize>ve - 1))) ve--;
  const e = table + <usize>(f * FIELD_BYTES);
  store<i32>(e, vs, 8);
  store<i32>(e, ve - vs, 12);
}

// @ts-ignore: decorator
@inline export function fieldNameAt(table: usize, i: i32): i32 {
  return load<i32>(table + <usize>(i * FIELD_BYTES));
}
// @ts-ignore: decorator
@inline export function fieldNameLen(table: usize, i: i32): i32 {
  return load<i32>(table + <usize>(i * FIELD_BYTES), 4);
}
// @ts-ignore: decorator
@inline export function fieldValueAt(table: usize, i: i32): i32 {
  return load<i32>(table + <usize>(i * FIELD_BYTES), 8);
}
// @ts-ignore: decorator
@inline export function fieldValueLen(table: usize, i: i32): i32 {
  return load<i32>(table + <usize>(i * FIELD_BYTES), 12);
}
