/**
 * Just enough of the WebAssembly binary format (core spec, chapter 5) to find a module's
 * sections and rewrite one of them: a bounds-checked reader and an unsigned LEB128 writer.
 * Every read past the end of its range, and every integer wider than its type, throws
 * `Malformed` (never a RangeError), so a caller can decide what an unreadable module means.
 */

/** The module bytes do not follow the encoding this reader expects. */
export class Malformed extends Error {
  constructor(what: string) {
    super(`malformed module: ${what}`);
    this.name = 'Malformed';
  }
}

/** Reads bytes and u32 LEB128 integers from `[at, end)` of `bytes`. */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
    readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  byte(): number {
    if (this.at >= this.end) throw new Malformed(`unexpected end at byte ${this.at}`);
    return this.bytes[this.at++]!;
  }

  /** An unsigned LEB128 u32: at most 5 bytes, and the 5th carries at most 4 bits (spec 5.2.2). */
  u32(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      if (i === 4 && b > 0x0f) throw new Malformed(`integer too large at byte ${this.at - 1}`);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new Malformed(`integer too long at byte ${this.at}`);
  }
}

/** One section: its id, where it starts (the id byte), where its payload starts and its end. */
export interface Section {
  id: number;
  start: number;
  payload: number;
  end: number;
}

/** The module's sections, in order. Throws Malformed unless they tile the module exactly. */
export function readSections(bytes: Uint8Array): Section[] {
  const r = new ByteReader(bytes, 8); // magic and version
  if (bytes.length < 8) throw new Malformed('shorter than the header');
  const out: Section[] = [];
  while (!r.done) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const payload = r.at;
    const end = payload + size;
    if (end > bytes.length) throw new Malformed(`section ${id} runs past the end`);
    out.push({ id, start, payload, end });
    r.at = end;
  }
  return out;
}

/** The module with the payloads of some sections replaced (each keeps its id and place). */
export function replaceSections(
  bytes: Uint8Array,
  replacements: ReadonlyMap<Section, readonly number[]>,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let copied = 0;
  for (const [section, payload] of [...replacements].sort(([a], [b]) => a.start - b.start)) {
    parts.push(bytes.subarray(copied, section.start));
    parts.push(Uint8Array.from([section.id, ...writeU32(payload.length), ...payload]));
    copied = section.end;
  }
  parts.push(bytes.subarray(copied));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An unsigned LEB128 encoding of `value`, an integer from 0 to 2^32 - 1. */
export function writeU32(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new Malformed(`${value} is not a u32`);
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}
