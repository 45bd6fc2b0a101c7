// Header lines of literal pairs, checked and encoded once. A name and a value that are both
// string literals live in the module's static data, below __heap_base: they never change, and
// their address is never reused for other text (a heap string's can be, once collected). So
// the first time such a pair is added it is checked and its "name: value\r\n" line encoded
// into an entry, and every later response that adds it refers to the entry by number.
// Entries are never replaced, so a number stays valid for as long as a response holds it
// (one may wait for its body across many calls); once all are taken, a new literal pair is
// checked and encoded each time, like a heap string's.

import { checkHeader, Reserved } from "./headers";
import { putAscii } from "./put";

const ENTRIES = 32; // at most 255: a response packs entry numbers + 1 into bytes (response.ts)
const LINE_MAX = 120;
const names: usize = memory.data(ENTRIES * sizeof<usize>(), 8);
const values: usize = memory.data(ENTRIES * sizeof<usize>(), 8);
const lines: usize = memory.data(ENTRIES * LINE_MAX, 8);
const lineLens: usize = memory.data(ENTRIES * sizeof<i32>(), 4);
let used: i32 = 0;

/** The entry of the pair checkHeaderCached() was last given, or -1 if it has none. */
export let literalEntry: i32 = -1;

/** checkHeader(), remembering literal pairs that are ordinary (Reserved.NONE) in an entry. */
export function checkHeaderCached(name: string, value: string): Reserved {
  const np = changetype<usize>(name);
  const vp = changetype<usize>(value);
  const literal = np < __heap_base && vp < __heap_base;
  literalEntry = -1;
  if (literal) {
    for (let i = 0; i < used; i++) {
      const e = <usize>(i * sizeof<usize>());
      if (load<usize>(names + e) == np && load<usize>(values + e) == vp) {
        literalEntry = i;
        return Reserved.NONE;
      }
    }
  }
  const kind = checkHeader(name, value);
  if (literal && kind == Reserved.NONE) remember(name, value);
  return kind;
}

/** Keeps a checked literal pair's line in the next free entry, if its line fits one. */
function remember(name: string, value: string): void {
  const n = lineBytes(name, value);
  if (used == ENTRIES || n > LINE_MAX) return;
  const i = used++;
  store<usize>(names + <usize>(i * sizeof<usize>()), changetype<usize>(name));
  store<usize>(values + <usize>(i * sizeof<usize>()), changetype<usize>(value));
  putLine(lineAt(i), name, value);
  store<i32>(lineLens + <usize>(i * sizeof<i32>()), n);
  literalEntry = i;
}

/** Entry e's encoded line. */
// @ts-ignore: decorator
@inline export function lineAt(e: i32): usize {
  return lines + <usize>(e * LINE_MAX);
}

/** The length of entry e's line. */
// @ts-ignore: decorator
@inline export function lineLen(e: i32): i32 {
  return load<i32>(lineLens + <usize>(e * sizeof<i32>()));
}

/** The length of "name: value\r\n" in UTF-8. */
export function lineBytes(name: string, value: string): i32 {
  return name.length + 2 + String.UTF8.byteLength(value) + 2;
}

/** Writes "name: value\r\n" at `at` (the name is a checked token: ASCII). */
export function putLine(at: usize, name: string, value: string): void {
  at += <usize>putAscii(at, name);
  store<u16>(at, 0x203a); // ": "
  at += 2;
  at += String.UTF8.encodeUnsafe(changetype<usize>(value), value.length, at);
  store<u16>(at, 0x0a0d);
}
