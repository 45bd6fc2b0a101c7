/**
 * The errors docs/HTTP.md has the SDK report at the byte that proves them, for the HTTP
 * reference (fuzz/http-reference.ts), in byte order: field line by field line, at the colon
 * (a second Host or Content-Length, Content-Length with Transfer-Encoding, Transfer-Encoding
 * in HTTP/1.0), in a Content-Length value (a bad byte: 400; its 16th digit: 413) and at the CR
 * that ends a line (a Host that is not a host, a Connection that is not a token list, an
 * expectation other than 100-continue: 417, a Transfer-Encoding list that can no longer be
 * valid). "The first error in byte order decides the status": the first one found is the
 * only status the request may get, whatever comes after it (a bare LF, a second field).
 */
import { type Field } from './http-fields.ts';

/** The line a field section stopped in: its bytes that are still valid (`name:value` or a
 *  prefix of it), and whether its CR was reached with all of it valid. */
export interface PartialLine {
  text: string;
  cr: boolean;
}

export const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const TOKEN = new RegExp(`^${TCHAR}+$`);

interface State {
  hosts: number;
  lengths: number;
  te: boolean;
  chunked: boolean;
}

/** The status of the first error in byte order among `fields` (complete lines) and `partial`,
 *  or 0 when none is proven yet. */
export function earlyStatus(
  http10: boolean,
  fields: readonly Field[],
  partial: PartialLine | undefined,
  validHost: (v: string) => boolean,
): number {
  const st: State = { hosts: 0, lengths: 0, te: false, chunked: false };
  for (const f of fields) {
    const s = lineStatus(st, http10, f.name, f.value, true, validHost);
    if (s !== 0) return s;
  }
  if (partial === undefined) return 0;
  const colon = partial.text.indexOf(':');
  if (colon <= 0) return 0;
  return lineStatus(
    st,
    http10,
    partial.text.slice(0, colon).toLowerCase(),
    partial.text.slice(colon + 1),
    partial.cr,
    validHost,
  );
}

/** One field line: at its colon, in its value, at its CR (when `cr`). */
function lineStatus(
  st: State,
  http10: boolean,
  name: string,
  value: string,
  cr: boolean,
  validHost: (v: string) => boolean,
): number {
  const atColon = colonStatus(st, http10, name);
  if (atColon !== 0) return atColon;
  if (name === 'content-length') return lengthStatus(value, cr);
  if (!cr) return 0;
  const v = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (name === 'host') return validHost(v) ? 0 : 400;
  if (name === 'connection') return elements(v).every((e) => TOKEN.test(e)) ? 0 : 400;
  if (name === 'expect') return http10 || v.toLowerCase() === '100-continue' ? 0 : 417;
  if (name === 'transfer-encoding') return codingsStatus(st, v);
  return 0;
}

function colonStatus(st: State, http10: boolean, name: string): number {
  if (name === 'host' && st.hosts++ > 0) return 400;
  if (name === 'content-length' && (st.lengths++ > 0 || st.te)) return 400;
  if (name === 'transfer-encoding') {
    st.te = true;
    if (http10 || st.lengths > 0) return 400;
  }
  return 0;
}

/** A Content-Length value so far: 413 at a 16th digit, 400 at a byte that cannot be one. */
function lengthStatus(value: string, cr: boolean): number {
  const v = value.replace(/^[ \t]+/, '');
  const digits = /^[0-9]*/.exec(v)![0].length;
  if (digits >= 16) return 413;
  if (!/^[ \t]*$/.test(v.slice(digits))) return 400;
  return cr && digits === 0 ? 400 : 0;
}

/** One Transfer-Encoding line at its CR: empty, a malformed coding, parameters on chunked,
 *  anything after chunked (on this line or an earlier one). */
function codingsStatus(st: State, v: string): number {
  const codings = elements(v);
  if (codings.length === 0) return 400;
  for (const c of codings) {
    if (st.chunked || !new RegExp(`^${TCHAR}+(?:[ \\t]*;.*)?$`).test(c)) return 400;
    const name = /^[^ \t;]*/.exec(c)![0].toLowerCase();
    if (name === 'chunked' && c.length > name.length) return 400;
    if (name === 'chunked') st.chunked = true;
  }
  return 0;
}

/** RFC 9110 5.6.1 list elements, trimmed, empty ones skipped. */
export function elements(v: string): string[] {
  return v
    .split(',')
    .map((e) => e.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((e) => e.length > 0);
}
