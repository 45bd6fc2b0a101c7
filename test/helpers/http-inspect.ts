/**
 * What wasm/inspect.wasm must send: the exact JSON for a request's fields, the exact response
 * head around it, and a strict parser for what it did send (status line, header lines, body
 * framed by Content-Length or chunked), so that tests compare bytes, not impressions.
 */
import { createHash } from 'node:crypto';
import { isImfFixdate } from '../props/model.ts';
import type { Expected } from './http-corpus.ts';

/** Response bodies up to this size get a Content-Length; larger ones are chunked (the SDK's
 *  STAGE_MAX in assembly/http/response.ts). */
export const STAGE_MAX = 16384;

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

export function reasonOf(status: number): string {
  return REASONS[status] ?? '';
}

/** A JSON string as inspect writes one: each byte of the latin1 string `s` is a character;
 *  `"` and `\` escaped; bytes outside 0x20-0x7e as \u00xx. */
export function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c === 0x22 || c === 0x5c) out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += '\\u00' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

export function sha256hex(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The body inspect sends for a request (fields in its order). */
export function inspectJson(
  e: Pick<Expected, 'method' | 'target' | 'version' | 'headers' | 'multipart'>,
  bodyLength: number,
  sha: string,
): string {
  const headers = e.headers.map(([n, v]) => `[${jsonString(n)},${jsonString(v)}]`).join(',');
  let multipart = '';
  if (e.multipart) {
    const nul = (s: string | null) => (s === null ? 'null' : jsonString(s));
    const parts = e.multipart.parts.map(
      (p) =>
        `{"name":${nul(p.name)},"filename":${nul(p.filename)},"size":${p.data.length},"sha256":"${sha256hex(p.data)}"}`,
    );
    multipart = `,"multipart":{"complete":${e.multipart.complete},"parts":[${parts.join(',')}]}`;
  }
  return (
    `{"method":${jsonString(e.method)},"target":${jsonString(e.target)},"version":"${e.version}",` +
    `"headers":[${headers}],"bodyLength":${bodyLength},"bodySha256":"${sha}"${multipart}}`
  );
}

export interface ParsedResponse {
  statusLine: string;
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** The raw bytes of this response, head and body. */
  raw: Buffer;
  /** The Date header's value, taken out of `headers` (and checked to be an IMF-fixdate). */
  date?: string;
}

/** `raw` with the Date line of each response head removed, after checking it is well formed:
 *  the SDK sends one right after the status line of every final response. */
export function undated(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  return text.replace(
    /(HTTP\/1\.1 [2-5]\d\d [^\r\n]*\r\n)Date: ([^\r\n]*)\r\n/g,
    (_, status: string, date: string) => {
      if (!isImfFixdate(date)) throw new Error(`bad Date header ${JSON.stringify(date)}`);
      return status;
    },
  );
}

/** Parses back-to-back responses from `buf` strictly; throws on anything malformed. A 1xx
 *  response has no body. `headOnly[i]` marks answers to HEAD (no body either). */
export function parseAll(buf: Buffer, headOnly: boolean[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  let n = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0)
      throw new Error(`truncated head: ${JSON.stringify(buf.subarray(at).toString('latin1'))}`);
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
    if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const headers = lines.slice(1).map((l): [string, string] => {
      const hm = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): (.*)$/.exec(l);
      if (!hm) throw new Error(`bad header line ${JSON.stringify(l)}`);
      return [hm[1]!, hm[2]!];
    });
    const status = Number(m[1]);
    let date: string | undefined;
    if (headers[0]?.[0] === 'Date') {
      date = headers.shift()![1];
      if (!isImfFixdate(date)) throw new Error(`bad Date header ${JSON.stringify(date)}`);
    }
    let p = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const interim = status < 200;
    if (!interim && !headOnly[n]) [body, p] = readBody(buf, p, headers);
    out.push({
      statusLine,
      status,
      headers,
      body,
      raw: buf.subarray(at, p),
      ...(date === undefined ? {} : { date }),
    });
    if (!interim) n++;
    at = p;
  }
  return out;
}

function readBody(buf: Buffer, p: number, headers: Array<[string, string]>): [Buffer, number] {
  const cl = headers.find(([n]) => n.toLowerCase() === 'content-length');
  const te = headers.find(([n]) => n.toLowerCase() === 'transfer-encoding');
  if (cl && te) throw new Error('both Content-Length and Transfer-Encoding');
  if (cl) {
    const len = Number(cl[1]);
    if (p + len > buf.length) throw new Error(`body cut short: ${buf.length - p} of ${len}`);
    return [buf.subarray(p, p + len), p + len];
  }
  if (te?.[1] !== 'chunked') throw new Error(`no framing: ${JSON.stringify(headers)}`);
  const parts: Buffer[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', p);
    if (eol < 0) throw new Error('chunk size cut short');
    const size = parseInt(buf.subarray(p, eol).toString('latin1'), 16);
    if (!/^[0-9a-f]+$/.test(buf.subarray(p, eol).toString('latin1')))
      throw new Error('bad chunk size');
    p = eol + 2;
    if (size === 0) {
      if (buf.subarray(p, p + 2).toString('latin1') !== '\r\n') throw new Error('bad last chunk');
      return [Buffer.concat(parts), p + 2];
    }
    parts.push(buf.subarray(p, p + size));
    if (buf.subarray(p + size, p + size + 2).toString('latin1') !== '\r\n')
      throw new Error('chunk data not followed by CRLF');
    p += size + 2;
  }
}

/** The exact bytes of the error response the SDK sends for `status`, less its Date line. */
export function errorResponse(status: number): string {
  return `HTTP/1.1 ${status} ${reasonOf(status)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

/** Checks one parsed response against an expectation; returns a description of the first
 *  difference, or null. */
export function compare(got: ParsedResponse, e: Expected): string | null {
  if (got.date === undefined) return 'no Date header';
  if (e.status !== 200) {
    const want = errorResponse(e.status);
    const raw = undated(got.raw);
    return raw === want ? null : `want ${JSON.stringify(want)}, got ${JSON.stringify(raw)}`;
  }
  const json = inspectJson(e, e.body.length, sha256hex(e.body));
  const framing: [string, string] =
    json.length > STAGE_MAX
      ? ['Transfer-Encoding', 'chunked']
      : ['Content-Length', String(json.length)];
  const headers: Array<[string, string]> = [['Content-Type', 'application/json'], framing];
  if (e.connection) headers.push(['Connection', e.connection]);
  if (got.statusLine !== 'HTTP/1.1 200 OK') return `status line ${JSON.stringify(got.statusLine)}`;
  if (JSON.stringify(got.headers) !== JSON.stringify(headers))
    return `headers ${JSON.stringify(got.headers)}, want ${JSON.stringify(headers)}`;
  const body = got.body.toString('latin1');
  if (e.method === 'HEAD') return body === '' ? null : `a body after HEAD: ${body}`;
  return body === json ? null : `body ${body}\n  want ${json}`;
}
