/**
 * Strict HTTP/1.x response parsing for raw-socket tests: a status line, CRLF header lines, and
 * a body framed by Content-Length (none for a response to HEAD). Anything else throws, so a
 * server whose framing is off (a body after HEAD, a missing header) fails the test.
 */
import { RawClient } from './net-tcp.ts';

export interface HttpResponse {
  version: string;
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

function parseHead(head: string): HttpResponse {
  const lines = head.split('\r\n');
  const m = /^(HTTP\/1\.[01]) (\d{3}) [^\r\n]*$/.exec(lines[0] ?? '');
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const hm = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!hm) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = hm[1]!.toLowerCase();
    if (name in headers) throw new Error(`duplicate header ${name}`);
    headers[name] = hm[2]!;
  }
  return { version: m[1]!, status: Number(m[2]), headers, body: '' };
}

function bodyLength(res: HttpResponse): number {
  const cl = res.headers['content-length'];
  if (cl === undefined || !/^\d+$/.test(cl))
    throw new Error(`no usable Content-Length: ${JSON.stringify(res.headers)}`);
  return Number(cl);
}

/** Parses back-to-back responses filling all of `buf`; `isHead[i]` says response i answers a
 *  HEAD. Throws if a response is malformed or incomplete, or bytes are left over. */
export function parseResponses(buf: Buffer, isHead: boolean[]): HttpResponse[] {
  const out: HttpResponse[] = [];
  let at = 0;
  for (let i = 0; i < isHead.length; i++) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0)
      throw new Error(
        `response ${i} incomplete: ${JSON.stringify(buf.subarray(at).toString('latin1'))}`,
      );
    const res = parseHead(buf.subarray(at, end).toString('latin1'));
    at = end + 4;
    if (!isHead[i]) {
      const n = bodyLength(res);
      if (at + n > buf.length) throw new Error(`response ${i}: body cut short`);
      res.body = buf.subarray(at, at + n).toString('latin1');
      at += n;
    }
    out.push(res);
  }
  if (at !== buf.length) {
    throw new Error(
      `${buf.length - at} bytes after ${isHead.length} responses: ${JSON.stringify(buf.subarray(at).toString('latin1'))}`,
    );
  }
  return out;
}

/** Reads one complete response from the client's pending bytes. */
export async function readResponse(c: RawClient, isHead = false, ms = 5000): Promise<HttpResponse> {
  const head = (await c.readUntil('\r\n\r\n', ms)).toString('latin1');
  const res = parseHead(head.slice(0, -4));
  if (!isHead) res.body = (await c.read(bodyLength(res), ms)).toString('latin1');
  return res;
}

export const GET = (path = '/', extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

/** `n` keep-alive GETs on one new connection to 127.0.0.1:`port`, each answered 200. */
export async function keepAliveGets(port: number, n: number): Promise<void> {
  const c = await RawClient.connect(port);
  for (let i = 0; i < n; i++) {
    await c.write(GET());
    const res = await readResponse(c);
    if (res.status !== 200) throw new Error(`request ${i}: status ${res.status}`);
  }
  c.sock.destroy();
}
