/**
 * The request corpus in test/http/*.txt: readable files of raw requests and what inspect.wasm
 * must answer. The format (documented in test/http/README.md):
 *
 *   === name                     a case starts
 *   limits: name=value, ...      optional host limits for this case
 *   --- request                  raw bytes follow, one file line per request line
 *   GET / HTTP/1.1\r\n           escapes: \r \n \t \0 \\ \xHH \s (a space); {{TEXT*N}} repeats;
 *                                {{length}} is the number of bytes after the head's empty line;
 *   Host: a\r\n                  the file's own line breaks and trailing blanks are not bytes
 *   \r\n
 *   --- response                 one block per response expected, in order
 *   method: GET                  the inspect JSON fields (header: lines in order; none = [])
 *   target: /
 *   version: HTTP/1.1
 *   header: Host: a              (header*N: repeats the line N times)
 *   body: abc                    the body the handler saw (escaped; default empty; {{sent}}:
 *                                all the bytes after the request's head)
 *   connection: close            an expected Connection header (close closes the connection)
 *   continue: yes                a "100 Continue" comes first
 *   multipart: complete          a multipart/form-data body (or: incomplete), then its parts:
 *   part: file|a.txt|data        name|filename|data, escaped; \N for an absent name/filename
 *   status: 400                  instead of the fields: the SDK refused, and closes
 *   --- none                     no (further) response: the request is incomplete, still open
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Expected {
  status: number;
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
  body: Buffer;
  connection?: string;
  continued: boolean;
  /** multipart/form-data: whether the close delimiter was seen, and the parts. */
  multipart?: {
    complete: boolean;
    parts: Array<{ name: string | null; filename: string | null; data: Buffer }>;
  };
}

export interface Case {
  file: string;
  line: number;
  name: string;
  limits: Record<string, number>;
  request: Buffer;
  responses: Expected[];
  /** The server ends the connection after the last response. */
  closes: boolean;
  /** `--- none`: the request bytes end with an incomplete request. */
  incomplete: boolean;
}

/** Decodes the escapes of one corpus line into bytes (latin1). */
export function unescape(text: string, where: string): Buffer {
  const expanded = text.replace(/\{\{(.*?)\*(\d+)\}\}/g, (_, s: string, n: string) =>
    s.repeat(Number(n)),
  );
  let out = '';
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = expanded[++i];
    if (e === 'r') out += '\r';
    else if (e === 'n') out += '\n';
    else if (e === 't') out += '\t';
    else if (e === '0') out += '\0';
    else if (e === 's') out += ' ';
    else if (e === '\\') out += '\\';
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(expanded.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(expanded.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`${where}: bad escape \\${e ?? ''}`);
  }
  return Buffer.from(out, 'latin1');
}

function emptyExpected(): Expected {
  return {
    status: 200,
    method: '',
    target: '',
    version: 'HTTP/1.1',
    headers: [],
    body: Buffer.alloc(0),
    continued: false,
  };
}

/** `header: name: value` (one space after the colon is not the value's). */
function headerField(value: string, where: string): [string, string] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new Error(`${where}: header needs "name: value"`);
  const v = value.slice(colon + 1).replace(/^ /, '');
  return [value.slice(0, colon), unescape(v, where).toString('latin1')];
}

/** `part: name|filename|data`, after `multipart:`; `\N` is no name or no filename. */
function addPart(e: Expected, value: string, where: string): void {
  const [name, filename, data] = value.split('|');
  if (data === undefined || !e.multipart)
    throw new Error(`${where}: part needs "multipart:" first and name|filename|data`);
  const text = (t: string) => (t === '\\N' ? null : unescape(t, where).toString('latin1'));
  e.multipart.parts.push({
    name: text(name!),
    filename: text(filename!),
    data: unescape(data, where),
  });
}

function setField(e: Expected, key: string, value: string, where: string): void {
  switch (key) {
    case 'status':
      e.status = Number(value);
      break;
    case 'method':
      e.method = unescape(value, where).toString('latin1');
      break;
    case 'target':
      e.target = unescape(value, where).toString('latin1');
      break;
    case 'version':
      e.version = value;
      break;
    case 'headers':
      if (value !== 'none') throw new Error(`${where}: headers: none is the only form`);
      break;
    case 'header':
      e.headers.push(headerField(value, where));
      break;
    case 'body':
      e.body = unescape(value, where);
      break;
    case 'connection':
      e.connection = value;
      break;
    case 'continue':
      e.continued = value === 'yes';
      break;
    case 'multipart':
      e.multipart = { complete: value === 'complete', parts: e.multipart?.parts ?? [] };
      break;
    case 'part':
      addPart(e, value, where);
      break;
    default:
      throw new Error(`${where}: unknown field ${key}`);
  }
}

function parseLimits(value: string, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([a-z0-9-]+)=(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`${where}: bad limit ${part}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

type Block = 'head' | 'request' | 'response' | 'none';

/** Parses one corpus file. */
export function parseCorpus(file: string, text: string): Case[] {
  const cases: Case[] = [];
  let block: Block = 'head';
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/[ \t\r]+$/, '');
    if (line.startsWith('=== ')) {
      cases.push(newCase(file, i + 1, line.slice(4)));
      block = 'head';
      return;
    }
    const cur = cases[cases.length - 1];
    if (cur === undefined) {
      if (line === '' || line.startsWith('#')) return;
      throw new Error(`${where}: text before the first case`);
    }
    if (line.startsWith('--- ')) block = startBlock(cur, line.slice(4), where);
    else if (block === 'request') cur.request = Buffer.concat([cur.request, unescape(line, where)]);
    else if (line !== '' && !line.startsWith('#')) fieldLine(cur, block, line, where);
  });
  for (const k of cases) finish(k);
  return cases;
}

function newCase(file: string, line: number, name: string): Case {
  return {
    file,
    line,
    name,
    limits: {},
    request: Buffer.alloc(0),
    responses: [],
    closes: false,
    incomplete: false,
  };
}

/** `--- request`, `--- response` (one more expected response) or `--- none` (no answer:
 *  the request is incomplete). */
function startBlock(cur: Case, kind: string, where: string): Block {
  if (kind === 'request') return 'request';
  if (kind === 'response') {
    cur.responses.push(emptyExpected());
    return 'response';
  }
  if (kind === 'none') {
    cur.incomplete = true;
    return 'none';
  }
  throw new Error(`${where}: unknown block ${kind}`);
}

/** `field: value` or `field*N: value` (N times): `limits` in the head, the rest in a response. */
function fieldLine(cur: Case, block: Block, line: string, where: string): void {
  const m = /^([a-z]+)(?:\*(\d+))?:\s?(.*)$/.exec(line);
  if (!m) throw new Error(`${where}: expected "field: value"`);
  if (block === 'head' && m[1] === 'limits') {
    cur.limits = parseLimits(m[3]!, where);
    return;
  }
  if (block !== 'response') throw new Error(`${where}: field outside a response block`);
  const times = m[2] === undefined ? 1 : Number(m[2]);
  for (let t = 0; t < times; t++)
    setField(cur.responses[cur.responses.length - 1]!, m[1]!, m[3]!, where);
}

function finish(k: Case): void {
  const where = `${k.file}:${k.line}`;
  if (k.request.length === 0) throw new Error(`${where}: no request bytes`);
  const mark = k.request.indexOf('{{length}}');
  if (mark >= 0) {
    const body = k.request.length - (k.request.indexOf('\r\n\r\n') + 4);
    const n = Buffer.from(String(body), 'latin1');
    k.request = Buffer.concat([
      k.request.subarray(0, mark),
      n,
      k.request.subarray(mark + '{{length}}'.length),
    ]);
    for (const e of k.responses) {
      for (const h of e.headers) h[1] = h[1].replace('{{length}}', String(body));
    }
  }
  const sent = k.request.subarray(k.request.indexOf('\r\n\r\n') + 4);
  for (const e of k.responses) if (e.body.toString('latin1') === '{{sent}}') e.body = sent;
  const last = k.responses[k.responses.length - 1];
  k.closes = last !== undefined && (last.status !== 200 || last.connection === 'close');
}

/** Every case in test/http/*.txt, in file order. */
export function loadCorpus(dir = 'test/http'): Case[] {
  const out: Case[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.txt'))
    .sort()) {
    out.push(...parseCorpus(f, readFileSync(join(dir, f), 'latin1')));
  }
  return out;
}
