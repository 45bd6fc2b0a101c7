/**
 * The HTTP fuzz oracle: the guest's answer to one input, response by response, against what
 * a reference says the rules require (fuzz/http-reference.ts for the SDK, fuzz/hello-reference.ts
 * for hello). A parser that serves what the rules refuse (two Content-Length fields), refuses
 * what they allow, answers with a status they do not give, answers too often or stays silent
 * is caught here, not only one that answers garbage.
 */
import type { Verdict } from './http-reference.ts';

export interface Outcome {
  /** Everything the guest sent back. */
  output: Buffer;
  /** The guest shut its side (FIN or close) before the peer sent its own FIN. */
  endedByGuest: boolean;
}

/** The final statuses in `output` (1xx left out), responses delimited by their framing; or a
 *  reason it is not a response stream. `expected` says which requests were HEAD (no body). */
function statuses(output: Buffer, expected: readonly Verdict[]): number[] | string {
  const text = output.toString('latin1');
  const out: number[] = [];
  for (let at = 0; at < text.length;) {
    const m = /^HTTP\/1\.1 ([1-5]\d\d) [^\r\n]*\r\n/.exec(text.slice(at, at + 200));
    if (m === null)
      return `answer ${out.length + 1} does not start with a status line: ${JSON.stringify(text.slice(at, at + 60))}`;
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return `answer ${out.length + 1} has no end of head`;
    const head = text.slice(at, end + 2);
    const status = Number(m[1]);
    at = end + 4;
    if (status < 200) continue;
    const v = expected[out.length];
    out.push(status);
    if ((v?.kind === 'served' && v.head) || status === 204 || status === 304) continue;
    const length = /\r\nContent-Length: ([0-9]+)\r\n/i.exec(head);
    if (length !== null) at += Number(length[1]);
    else if (/\r\nTransfer-Encoding: chunked\r\n/i.test(head)) at = chunkedEnd(text, at);
    else at = text.length; // delimited by the close
  }
  return out;
}

/** Past a chunked response body (the guest's own framing: no extensions, no trailers). */
function chunkedEnd(text: string, at: number): number {
  for (;;) {
    const cr = text.indexOf('\r\n', at);
    if (cr < 0) return text.length;
    const size = parseInt(text.slice(at, cr), 16);
    if (!(size > 0)) return cr + 4;
    at = cr + 2 + size + 2;
  }
}

const show = (v: Verdict) =>
  v.kind === 'served'
    ? `served${v.close ? ' (close)' : ''}`
    : `${v.kind} ${[...v.statuses].join('/') || '(no answer)'}`;

/** null when the guest answered as the rules say, else what differs. */
export function compareHttp(
  expected: readonly Verdict[],
  { output, endedByGuest }: Outcome,
): string | null {
  const got = statuses(output, expected);
  if (typeof got === 'string') return got;
  for (let i = 0; i < expected.length; i++) {
    const v = expected[i]!;
    const s = got[i];
    const where = `request ${i + 1} (the rules: ${show(v)})`;
    if (v.kind === 'served') {
      if (s !== 200) return `${where} was answered ${s ?? 'not at all'}`;
      if (v.close && i === expected.length - 1 && !endedByGuest)
        return `${where}: the connection stayed open after it`;
    } else if (v.kind === 'refused') {
      if (s === undefined || !v.statuses.has(s))
        return `${where} was answered ${s ?? 'not at all'}`;
      if (!endedByGuest) return `${where}: refused with ${s} but the connection stayed open`;
    } else if (s !== undefined && !v.statuses.has(s)) {
      return `${where} was answered ${s}`;
    }
  }
  if (got.length > expected.length)
    return `${got.length} answers to ${expected.length} request(s): ${got.join(', ')}`;
  return null;
}
