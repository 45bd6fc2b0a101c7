/**
 * A reference for the fuzz oracle: what the HTTP SDK (inspect.wasm) must answer to a stream
 * of request bytes, decided from the strict rules of docs/HTTP.md alone, written apart from
 * the guest's parser (line by line with regular expressions, where the guest scans bytes), so
 * that the two only agree when both follow the rules.
 *
 * It says, request by request, whether the SDK must serve it (200 from inspect), refuse it
 * (one of a set of statuses, then close), or cannot have answered yet (the input ends inside
 * it). "The first error in byte order decides the status" (docs/HTTP.md): an error a byte
 * proves (fuzz/http-early.ts, and the syntax here) is refused with its status alone, as soon as
 * the input holds that byte, whatever follows; what needs the whole head (a missing Host, the
 * target's form, a coding other than chunked) is checked by the guest in its own order, so a
 * refusal for those lists every status the head's faults allow.
 */
import { earlyStatus, elements as listElements, TCHAR } from './http-early.ts';
import { checkFields, fieldValues, type Field } from './http-fields.ts';
import { lineStatus, partialLineFaults, targetFits, validHost } from './http-request-line.ts';

export type Verdict =
  /** Served (200); `head`: a HEAD request, whose response has no body. */
  | { kind: 'served'; close: boolean; head?: boolean }
  | { kind: 'refused'; statuses: ReadonlySet<number> }
  /** The input ends inside this request: no answer, or one of `statuses` (a fault the bytes
   *  so far already prove). */
  | { kind: 'incomplete'; statuses: ReadonlySet<number> };

export interface HttpLimits {
  maxHeaderBytes: number;
  maxTargetBytes: number;
  maxHeaders: number;
}

export const SDK_LIMITS: HttpLimits = {
  maxHeaderBytes: 16384,
  maxTargetBytes: 8192,
  maxHeaders: 100,
};

/** Every request in `input`, in order, until one ends the connection or the input ends. */
export function expectSdk(input: Uint8Array, limits: HttpLimits = SDK_LIMITS): Verdict[] {
  const text = Buffer.from(input).toString('latin1');
  const out: Verdict[] = [];
  let at = 0;
  while (at < text.length) {
    while (text.startsWith('\r\n', at)) at += 2; // empty lines before a request line
    if (at >= text.length || (text.length - at === 1 && text[at] === '\r')) break;
    const r = oneRequest(text, at, limits);
    out.push(r.verdict);
    if (r.verdict.kind !== 'served' || r.verdict.close) break;
    at = r.next;
  }
  return out;
}

interface Step {
  verdict: Verdict;
  next: number;
}

const refused = (...s: number[]): Step => ({
  verdict: { kind: 'refused', statuses: new Set(s) },
  next: -1,
});
const incomplete = (s: Set<number>): Step => ({
  verdict: { kind: 'incomplete', statuses: s },
  next: -1,
});

function oneRequest(text: string, at: number, limits: HttpLimits): Step {
  const window = text.slice(at, at + limits.maxHeaderBytes);
  const end = window.indexOf('\r\n\r\n');
  const headText = end >= 0 ? window.slice(0, end + 2) : window;
  const { early, late } = headFaults(headText, end >= 0, limits);
  // An error proven at a byte of the head decides the status, whatever follows it.
  if (early.size > 0) return refused(...early);
  if (end >= 0)
    return late.size > 0
      ? refused(...late)
      : withBody(text, at + end + 4, parseHead(headText, limits), limits);
  // A head cut short that outgrew its limit: 431 (414 in the target), or a fault of its
  // meaning (the target's form) found before; else it may still become anything.
  if (text.length - at >= limits.maxHeaderBytes)
    return refused(/^[^ \r\n]* [^ \r\n]*$/.test(window) ? 414 : 431, ...late);
  return incomplete(late);
}

interface Head {
  method: string;
  version: string;
  fields: Field[];
}

function parseHead(head: string, limits: HttpLimits): Head {
  const line = head.slice(0, head.indexOf('\r\n'));
  const [method = '', , version = ''] = line.split(' ');
  return { method, version, fields: checkFields(head.slice(line.length + 2), limits).fields };
}

/**
 * The faults of `head` (complete, or all that arrived): `early`, the status of the first error
 * in byte order that a byte of it proves (request line and field syntax, limits, and what
 * fuzz/http-early.ts lists), which alone decides the answer; `late`, the statuses of what
 * needs the whole head (all of them allowed: the guest checks those in its own order).
 */
export function headFaults(
  head: string,
  complete: boolean,
  limits: HttpLimits,
): { early: Set<number>; late: Set<number> } {
  const early = new Set<number>();
  const late = new Set<number>();
  const lineEnd = head.search(/[\r\n]/);
  const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const lineFault = lineStatus(line, lineEnd >= 0, limits);
  if (lineFault !== 0) return { early: new Set([lineFault]), late };
  if (lineEnd < 0) {
    partialLineFaults(line, late);
    return { early, late };
  }
  const version = line.split(' ')[2]!;
  // An unsupported version is proven at the CR that ends it, before the byte after that CR.
  if (head[lineEnd] === '\r' && (version[5] !== '1' || version[7]! > '1'))
    return { early: new Set([505]), late };
  if (head[lineEnd] !== '\r' || (head.length > lineEnd + 1 && head[lineEnd + 1] !== '\n'))
    return { early: new Set([400]), late };
  const f = checkFields(head.slice(lineEnd + 2), limits);
  const first = earlyStatus(version === 'HTTP/1.0', f.fields, f.partial, (v) =>
    validHost(v, false),
  );
  if (first !== 0) return { early: new Set([first]), late };
  if (f.faults.size > 0) return { early: f.faults, late };
  meaningFaults(line, f.fields, complete, late);
  return { early, late };
}

/** What the complete head means: the target's form, a missing Host, the codings, a CONNECT
 *  with content (and, again, what fuzz/http-early.ts decided at a byte: none by then). */
function meaningFaults(
  line: string,
  fields: Field[],
  complete: boolean,
  faults: Set<number>,
): void {
  const [method = '', target = '', version = ''] = line.split(' ');
  const http10 = version === 'HTTP/1.0';
  if (!targetFits(method, target)) faults.add(400);
  const hosts = fieldValues(fields, 'host');
  if (hosts.length > 1 || hosts.some((h) => !validHost(h, false))) faults.add(400);
  if (complete && hosts.length === 0 && !http10) faults.add(400);
  const lengths = fieldValues(fields, 'content-length');
  if (lengths.length > 1 || lengths.some((v) => !/^[0-9]+$/.test(v))) faults.add(400);
  if (lengths.length === 1 && /^[0-9]{16,}$/.test(lengths[0]!)) faults.add(413);
  const te = fieldValues(fields, 'transfer-encoding');
  if (te.length > 0) codingFaults(te, http10, lengths.length > 0, faults);
  const bodied = te.length > 0 || (lengths.length === 1 && /^0*[1-9]/.test(lengths[0]!));
  if (method === 'CONNECT' && bodied) faults.add(400);
  for (const v of fieldValues(fields, 'connection')) {
    if (listElements(v).some((e) => !new RegExp(`^${TCHAR}+$`).test(e))) faults.add(400);
  }
  if (!http10 && fieldValues(fields, 'expect').some((v) => v.toLowerCase() !== '100-continue'))
    faults.add(417);
}

function codingFaults(
  values: string[],
  http10: boolean,
  withLength: boolean,
  faults: Set<number>,
): void {
  const codings = values.flatMap(listElements);
  if (values.some((v) => listElements(v).length === 0)) faults.add(400); // an empty field
  const names = codings.map((c) => /^[^ \t;]*/.exec(c)![0].toLowerCase());
  const malformed =
    codings.length === 0 || codings.some((c) => !new RegExp(`^${TCHAR}+(?:[ \\t]*;.*)?$`).test(c));
  const chunkedParams = codings.some(
    (c, i) => names[i] === 'chunked' && c.length > 'chunked'.length,
  );
  const chunked = names.filter((n) => n === 'chunked').length;
  if (
    malformed ||
    chunkedParams ||
    http10 ||
    withLength ||
    names.at(-1) !== 'chunked' ||
    chunked > 1
  )
    faults.add(400);
  else if (names.some((n) => n !== 'chunked')) faults.add(501);
}

/** The body after a served head: Content-Length, chunked or none. */
function withBody(text: string, at: number, head: Head, limits: HttpLimits): Step {
  const http10 = head.version === 'HTTP/1.0';
  const conn = fieldValues(head.fields, 'connection')
    .flatMap(listElements)
    .map((e) => e.toLowerCase());
  const close =
    conn.includes('close') || head.method === 'CONNECT' || (http10 && !conn.includes('keep-alive'));
  const served = (next: number): Step => ({
    verdict: { kind: 'served', close, head: head.method === 'HEAD' },
    next,
  });
  if (fieldValues(head.fields, 'transfer-encoding').length > 0) {
    const r = chunkedEnd(text, at, limits);
    if (typeof r === 'number') return served(r);
    return r.fault === 0 ? incomplete(new Set()) : refused(r.fault);
  }
  const length = Number(fieldValues(head.fields, 'content-length')[0] ?? '0');
  return at + length <= text.length ? served(at + length) : incomplete(new Set());
}

const QUOTED_CHAR =
  '(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])';
/** chunk-ext (RFC 9112 7.1.1): BWS only where the grammar has it, never before the CR. */
const CHUNK_EXT = `(?:[ \\t]*;[ \\t]*${TCHAR}+(?:[ \\t]*=[ \\t]*(?:${TCHAR}+|"${QUOTED_CHAR}*"))?)`;
/** What the end of a size line may be while it is still arriving: a prefix of one more chunk-ext. */
const CHUNK_EXT_PREFIX = `[ \\t]*(?:;[ \\t]*(?:${TCHAR}+(?:[ \\t]*(?:=[ \\t]*(?:${TCHAR}+|"${QUOTED_CHAR}*\\\\?)?)?)?)?)?`;
const SIZE_LINE = new RegExp(`^([0-9A-Fa-f]{1,15})${CHUNK_EXT}*$`);
const SIZE_LINE_PREFIX = new RegExp(`^(?:[0-9A-Fa-f]{1,15}${CHUNK_EXT}*${CHUNK_EXT_PREFIX})?$`);
const MAX_SIZE_LINE = 4096;
/** inspect.wasm's max-body-bytes: 2^53 - 1 (a chunk-size may pass it: 413). */
const MAX_BODY_BYTES = Number.MAX_SAFE_INTEGER;

/** Where a chunked body ends, or why it cannot: fault 0 = the input ends inside it. */
function chunkedEnd(text: string, at: number, limits: HttpLimits): number | { fault: number } {
  let total = 0;
  for (;;) {
    const cr = text.indexOf('\r', at);
    const lineEnd = cr < 0 ? text.length : cr;
    const line = text.slice(at, lineEnd);
    if (lineEnd - at + 1 > MAX_SIZE_LINE || /\n/.test(line)) return { fault: 400 };
    if (cr < 0) return SIZE_LINE_PREFIX.test(line) ? { fault: 0 } : { fault: 400 };
    const m = SIZE_LINE.exec(line);
    if (m === null) return { fault: 400 };
    if (cr + 1 >= text.length) return { fault: 0 };
    if (text[cr + 1] !== '\n') return { fault: 400 };
    const size = parseInt(m[1]!, 16);
    total += size;
    if (total > MAX_BODY_BYTES) return { fault: 413 };
    at = cr + 2;
    if (size === 0) return trailersEnd(text, at, limits);
    if (at + size + 2 > text.length)
      return text.length > at + size && !'\r\n'.startsWith(text.slice(at + size))
        ? { fault: 400 }
        : { fault: 0 };
    if (text.slice(at + size, at + size + 2) !== '\r\n') return { fault: 400 };
    at += size + 2;
  }
}

function trailersEnd(text: string, at: number, limits: HttpLimits): number | { fault: number } {
  if (text.startsWith('\r\n', at)) return at + 2;
  const window = text.slice(at, at + limits.maxHeaderBytes);
  const end = window.indexOf('\r\n\r\n');
  const section = end >= 0 ? window.slice(0, end + 2) : window;
  const f = checkFields(section, limits);
  const first = [...f.faults][0];
  if (first !== undefined) return { fault: first };
  if (end >= 0) return at + end + 4;
  return text.length - at >= limits.maxHeaderBytes ? { fault: 431 } : { fault: 0 };
}
