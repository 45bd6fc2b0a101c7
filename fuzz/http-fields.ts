/**
 * Field lines for the HTTP reference (fuzz/http-reference.ts), from docs/HTTP.md: a line is a
 * token, a colon (no whitespace before it), and a value of VCHAR, obs-text, SP and HTAB; CRLF
 * ends every line, an empty line ends the section; a line starting with whitespace (obs-fold)
 * or with anything but a token is 400; more than `maxHeaders` lines is 431.
 */
import type { PartialLine } from './http-early.ts';

export interface Field {
  /** Lower case. */
  name: string;
  /** Trimmed of SP and HTAB. */
  value: string;
}

const LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([\t\x20-\x7e\x80-\xff]*)$/;
/** The part of a line before its first invalid byte. */
const VALID_PREFIX = /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?::[\t\x20-\x7e\x80-\xff]*)?)?/;
/** What a line may be while it is still arriving. */
const PARTIAL = /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?::[\t\x20-\x7e\x80-\xff]*)?)?$/;

/** Checks the field section `text` (complete or cut short): its first syntax fault, if any,
 *  the fields of its complete lines before that, and the valid part of the line it stopped in
 *  (fuzz/http-early.ts looks there for an error that came first). */
export function checkFields(text: string, limits: { maxHeaders: number }): Checked {
  const fields: Field[] = [];
  let at = 0;
  for (;;) {
    // In byte order: a field line past the limit is refused at its first byte.
    if (
      at < text.length &&
      text[at] !== '\r' &&
      fields.length >= limits.maxHeaders &&
      /^[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text[at]!)
    )
      return fault(431, fields);
    const cr = text.indexOf('\r', at);
    const lf = text.indexOf('\n', at);
    if (lf >= 0 && (cr < 0 || lf < cr)) return fault(400, fields, text.slice(at, lf)); // a bare LF
    const line = text.slice(at, cr < 0 ? text.length : cr);
    if (cr < 0)
      return PARTIAL.test(line)
        ? { faults: new Set(), fields, partial: { text: line, cr: false } }
        : fault(400, fields, line);
    if (cr + 1 < text.length && text[cr + 1] !== '\n')
      return fault(400, fields, line, LINE.test(line));
    if (line.length === 0) return { faults: new Set(), fields }; // the empty line: the end
    const m = LINE.exec(line);
    if (m === null) return fault(400, fields, line);
    fields.push({ name: m[1]!.toLowerCase(), value: m[2]!.replace(/^[ \t]+|[ \t]+$/g, '') });
    if (cr + 1 >= text.length) return { faults: new Set(), fields };
    at = cr + 2;
  }
}

export interface Checked {
  faults: Set<number>;
  fields: Field[];
  partial?: PartialLine;
}

/** A fault in `line` (its valid prefix is kept; `cr`: the fault is the byte after its CR). */
function fault(status: number, fields: Field[], line = '', cr = false): Checked {
  return {
    faults: new Set([status]),
    fields,
    partial: { text: cr ? line : VALID_PREFIX.exec(line)![0], cr },
  };
}

/** The values of every field named `name` (lower case), in order. */
export function fieldValues(fields: readonly Field[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}
