/**
 * Refusing at the first byte that makes a request invalid (as llhttp does), in the SDK's
 * parser (inspect.wasm) and in hello: each prefix below is fed one byte per recv over the
 * simulated kernel, and the error response must come right after its last byte, the one that
 * proves the request invalid, and not one byte earlier; the connection then ends. Before,
 * several of these waited for the whole head (or the 10 s header timeout).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';

interface Case {
  name: string;
  prefix: string;
  status: number;
  limits?: Record<string, number>;
}

const H = 'GET / HTTP/1.1\r\nHost: a\r\n';
const P = 'POST / HTTP/1.1\r\nHost: a\r\n';

/** Cases both parsers decide the same way. */
const COMMON: Case[] = [
  { name: 'bad method byte', prefix: 'G(', status: 400 },
  { name: 'control byte in the target', prefix: 'GET /a\x01', status: 400 },
  { name: 'bad version byte', prefix: 'GET / HTTX', status: 400 },
  { name: 'unsupported version, at its CR', prefix: 'GET / HTTP/5.6\r', status: 505 },
  { name: 'version too long', prefix: 'GET / HTTP/1.10', status: 400 },
  { name: 'bare LF ending the request line', prefix: 'GET / HTTP/1.1\n', status: 400 },
  { name: 'bare CR in the request line', prefix: 'GET / HTTP/1.1\rX', status: 400 },
  { name: 'control byte in a field value', prefix: `${H}X: a\x01`, status: 400 },
  { name: 'bare LF in a field value', prefix: `${H}X: a\n`, status: 400 },
  { name: 'invalid field-name byte', prefix: `${H}X(`, status: 400 },
  { name: 'space before the colon', prefix: `${H}X `, status: 400 },
  { name: 'obs-fold', prefix: `${H} `, status: 400 },
  {
    name: 'second Content-Length, at its colon',
    prefix: `${P}Content-Length: 1\r\ncontent-length:`,
    status: 400,
  },
  { name: 'Content-Length with a sign', prefix: `${P}Content-Length: +`, status: 400 },
  { name: 'Content-Length list', prefix: `${P}Content-Length: 1,`, status: 400 },
  { name: 'Content-Length with inner space', prefix: `${P}Content-Length: 1 2`, status: 400 },
];

const SDK: Case[] = [
  ...COMMON,
  { name: 'target byte outside RFC 3986', prefix: 'GET /a<', status: 400 },
  {
    name: 'Content-Length of 16 digits',
    prefix: `${P}Content-Length: 1234567890123456`,
    status: 413,
  },
  {
    name: 'Content-Length past max-body-bytes',
    prefix: `${P}Content-Length: 101`,
    status: 413,
    limits: { 'max-body-bytes': 100 },
  },
  {
    name: 'Transfer-Encoding after Content-Length',
    prefix: `${P}Content-Length: 1\r\nTransfer-Encoding:`,
    status: 400,
  },
  {
    name: 'Content-Length after Transfer-Encoding',
    prefix: `${P}Transfer-Encoding: chunked\r\nContent-Length:`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding in HTTP/1.0',
    prefix: 'POST / HTTP/1.0\r\nTransfer-Encoding:',
    status: 400,
  },
  { name: 'second Host', prefix: `${H}X: 1\r\nhost:`, status: 400 },
  {
    name: 'Host that is not a host, at its CR',
    prefix: 'GET / HTTP/1.1\r\nHost: a b\r',
    status: 400,
  },
  {
    name: 'Connection that is not a token list, at its CR',
    prefix: `${H}Connection: close x\r`,
    status: 400,
  },
  {
    name: 'an expectation other than 100-continue, at its CR',
    prefix: `${P}Expect: 200-ok\r`,
    status: 417,
  },
  { name: 'empty Transfer-Encoding, at its CR', prefix: `${P}Transfer-Encoding: ,\r`, status: 400 },
  {
    name: 'chunked not last, at its CR',
    prefix: `${P}Transfer-Encoding: chunked, gzip\r`,
    status: 400,
  },
  {
    name: 'chunked with parameters, at its CR',
    prefix: `${P}Transfer-Encoding: chunked;a=1\r`,
    status: 400,
  },
  {
    name: 'chunked twice across lines, at the second CR',
    prefix: `${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r`,
    status: 400,
  },
  {
    name: 'too many header fields',
    prefix: `${H}A: 1\r\nB`,
    status: 431,
    limits: { 'max-headers': 2 },
  },
  {
    name: 'head too large',
    prefix: `${H}X: ${'x'.repeat(64 - H.length - 3)}`,
    status: 431,
    limits: { 'max-header-bytes': 64 },
  },
];

const HELLO: Case[] = [
  ...COMMON,
  {
    name: 'Content-Length of 16 digits',
    prefix: `${P}Content-Length: 1234567890123456`,
    status: 400,
  },
  { name: 'Transfer-Encoding, at its colon', prefix: `${P}Transfer-Encoding:`, status: 501 },
  { name: 'head too large', prefix: `${H}X: ${'x'.repeat(8192 - H.length - 3)}`, status: 431 },
];

/** Feeds `c.prefix` one byte at a time; returns the index of the byte after which the server
 *  answered (-1: never) and the answer. */
async function feed(
  guest: string,
  flavour: (typeof FLAVOURS)[number],
  c: Case,
): Promise<{ at: number; text: string; ended: boolean }> {
  const s = await simLoop(guest, { flavour, limits: c.limits });
  const peer = s.connect();
  s.run();
  for (let i = 0; i < c.prefix.length; i++) {
    peer.write(c.prefix[i]!);
    s.run();
    const text = peer.readText();
    if (text !== '') return { at: i, text, ended: peer.serverShutWrite || peer.serverClosed };
  }
  return { at: -1, text: '', ended: false };
}

for (const flavour of FLAVOURS) {
  for (const [guest, cases] of [
    ['inspect', SDK],
    ['hello', HELLO],
  ] as const) {
    const test = suite(`early reject: ${guest} (${flavour})`);
    for (const c of cases) {
      test(`${c.name}: ${c.status} right after the byte that proves it`, async () => {
        const { at, text, ended } = await feed(guest, flavour, c);
        assert.is(
          at,
          c.prefix.length - 1,
          `answered after byte ${at} of ${c.prefix.length}: ${JSON.stringify(text.slice(0, 40))}`,
        );
        assert.match(text, new RegExp(`^HTTP/1\\.1 ${c.status} `));
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(ended, 'and the connection ends');
      });
    }
    test.run();
  }
}
