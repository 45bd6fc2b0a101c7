/**
 * What hello.wasm (assembly/proto/hello.ts) must answer, from the rules its header comment
 * and docs/SECURITY.md give it, written apart from its code: a head of at most 8 KiB ending in
 * an empty line, CRLF only (a bare LF is 400), `METHOD SP target SP version` with a token for
 * method, no control bytes in the target, HTTP/1.0 or HTTP/1.1 (another well-formed version is
 * 505), header lines `token ":" value` without control bytes, Transfer-Encoding refused (501),
 * one Content-Length of 1 to 15 digits (400 otherwise), keep-alive by version and Connection.
 * Every request it serves is answered 200 at once; a body is skipped after the answer.
 */
import type { Verdict } from './http-reference.ts';

const MAX_HEAD = 8192;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

export function expectHello(input: Uint8Array): Verdict[] {
  const text = Buffer.from(input).toString('latin1');
  const out: Verdict[] = [];
  let at = 0;
  while (at < text.length) {
    if (text.startsWith('\r\n', at)) {
      at += 2;
      continue;
    }
    const window = text.slice(at, at + MAX_HEAD);
    const bareLf = /(?:^|[^\r])\n/.exec(window);
    const end = window.indexOf('\r\n\r\n');
    if (bareLf !== null && (end < 0 || bareLf.index + bareLf[0].length - 1 < end + 4)) {
      // The first error in byte order decides: one before the bare LF may be the answer.
      const before = window.slice(0, bareLf.index + bareLf[0].length - 1);
      const faults = headFaults(before, false).faults;
      if (faults.size === 0) partialLineFaults(before, faults);
      out.push(faults.size > 0 ? refused(...faults) : refused(400));
      break;
    }
    if (end < 0) {
      const faults = headFaults(window, false).faults;
      if (faults.size === 0) partialLineFaults(window, faults);
      if (text.length - at < MAX_HEAD) out.push({ kind: 'incomplete', statuses: faults });
      else out.push(refused(window.includes('\n') ? 431 : 414, ...faults));
      break;
    }
    const head = headFaults(window.slice(0, end + 4), true);
    if (head.faults.size > 0) {
      out.push({ kind: 'refused', statuses: head.faults });
      break;
    }
    out.push({ kind: 'served', close: !head.keepAlive, head: /^HEAD /i.test(window) });
    if (!head.keepAlive) break;
    at += end + 4 + head.length;
  }
  return out;
}

const refused = (...s: number[]): Verdict => ({ kind: 'refused', statuses: new Set(s) });

/** Every fault of the head's complete lines, whether it keeps the connection, its body length. */
function headFaults(
  head: string,
  complete: boolean,
): { faults: Set<number>; keepAlive: boolean; length: number } {
  const faults = new Set<number>();
  const lines = head.split('\r\n');
  if (!complete || lines.length > 0) lines.pop(); // the part after the last CRLF is not a line
  const [line, ...fields] = lines;
  if (line === undefined) return { faults, keepAlive: false, length: 0 };
  // The first error in byte order decides: a line with one ends the checks.
  const http10 = requestLine(line, faults);
  let keepAlive = !http10;
  let length = -1;
  for (const f of fields) {
    if (faults.size > 0 || f.length === 0) break;
    const colon = f.indexOf(':');
    // Transfer-Encoding is refused at its colon, before anything later on the line is seen.
    if (colon > 0 && f.slice(0, colon).toLowerCase() === 'transfer-encoding') faults.add(501);
    else if (f.includes('\r') || colon <= 0 || !TOKEN.test(f.slice(0, colon))) faults.add(400);
    if (faults.size > 0) break;
    const name = f.slice(0, colon).toLowerCase();
    const value = f.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (CTL.test(value)) faults.add(400);
    else if (name === 'content-length') {
      if (length >= 0 || !/^[0-9]{1,15}$/.test(value)) faults.add(400);
      else length = Number(value);
    } else if (name === 'connection') {
      const tokens = value.split(',').map((t) => t.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase());
      if (tokens.includes('close')) keepAlive = false;
      else if (tokens.includes('keep-alive')) keepAlive = true;
    }
  }
  return { faults, keepAlive, length: Math.max(0, length) };
}

/** Checks `METHOD SP target SP version`; returns whether it is HTTP/1.0. */
function requestLine(whole: string, faults: Set<number>): boolean {
  // A CR inside the line: what came before it decides (505 for HTTP/2.0 and its CR), else 400.
  const line = whole.includes('\r') ? whole.slice(0, whole.indexOf('\r')) : whole;
  if (line !== whole) {
    requestLine(line, faults);
    if (faults.size === 0) faults.add(400);
    return false;
  }
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (
    sp1 <= 0 ||
    sp2 <= sp1 + 1 ||
    !TOKEN.test(line.slice(0, sp1)) ||
    CTL.test(line.slice(sp1 + 1, sp2))
  ) {
    faults.add(400);
    return false;
  }
  const version = line.slice(sp2 + 1);
  if (version === 'HTTP/1.0' || version === 'HTTP/1.1') return version === 'HTTP/1.0';
  faults.add(/^HTTP\/[0-9]\.[0-9]$/.test(version) ? 505 : 400);
  return false;
}

/**
 * hello refuses a head at the first byte that proves it invalid (the SDK's assembly/http/scan.ts
 * under hello's rules),
 * so the line still arriving at the end of an incomplete head may already allow an answer: the
 * statuses its bytes so far can prove, whenever hello reports them (at that byte or at the CR).
 */
function partialLineFaults(window: string, faults: Set<number>): void {
  const lastLine = window.lastIndexOf('\r\n');
  let part = lastLine < 0 ? window : window.slice(lastLine + 2);
  // A CR not followed by LF: the line is decided by what came before it and its CR, or is 400.
  const bareCr = /\r[^\n]/.exec(part);
  if (bareCr !== null) {
    const before = faults.size;
    partialLineFaults(window.slice(0, window.length - part.length + bareCr.index + 1), faults);
    if (faults.size === before) faults.add(400);
    return;
  }
  const cr = part.endsWith('\r');
  part = part.replace(/\r$/, '');
  // A CR may end only a request line whose version is whole: HTTP/D.D.
  if (lastLine < 0 && cr && !/^\S+ \S+ HTTP\/[0-9]\.[0-9]$/.test(part)) faults.add(400);
  if (lastLine < 0) partialRequestLine(part, faults);
  else
    partialField(
      part,
      cr,
      /\r\ncontent-length[ \t]*:/i.test(window.slice(0, lastLine + 2)),
      faults,
    );
}

function partialRequestLine(part: string, faults: Set<number>): void {
  const [method = '', target, ...rest] = part.split(' ');
  if ((method !== '' && !TOKEN.test(method)) || (target !== undefined && method === ''))
    faults.add(400);
  if (target === undefined) return;
  if (CTL.test(target) || (rest.length > 0 && target === '')) faults.add(400);
  if (rest.length === 0) return;
  const version = rest.join(' ');
  if ('HTTP/1.0'.startsWith(version) || 'HTTP/1.1'.startsWith(version)) return;
  faults.add(400);
  if (/^HTTP\/[0-9](?:\.[0-9]?)?$/.test(version)) faults.add(505);
}

/** A field line so far; `cr`: its CR has arrived (a name without a colon, or an empty
 *  Content-Length, is then proven bad). */
function partialField(part: string, cr: boolean, sawLength: boolean, faults: Set<number>): void {
  const colon = part.indexOf(':');
  const name = colon < 0 ? part : part.slice(0, colon);
  if ((name !== '' && !TOKEN.test(name)) || colon === 0 || (cr && colon < 0 && name !== ''))
    faults.add(400);
  if (colon <= 0) return;
  const value = part.slice(colon + 1);
  if (CTL.test(value)) faults.add(400);
  const lower = name.toLowerCase();
  if (lower === 'transfer-encoding') faults.add(501);
  if (lower !== 'content-length') return;
  const digits = value.replace(/^[ \t]+/, '');
  if (sawLength || !/^[0-9]{0,15}[ \t]*$/.test(digits) || (cr && !/[0-9]/.test(digits)))
    faults.add(400);
}
