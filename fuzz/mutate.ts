/**
 * Input mutations for the fuzzer: byte-level (flip, insert, delete, duplicate, splice) and
 * protocol-aware (the bytes that parsers branch on: CR, LF, NUL, ':', ';', ',', digits, hex,
 * spaces, 0xFF), stacked 1 to 4 deep. Everything comes from one seeded PRNG, so an input is
 * reproduced exactly from (target, seed, iteration).
 */
import type { Random } from '../host/kernel/sim/random.ts';

/** Bytes HTTP and frame parsers branch on. */
const INTERESTING = [
  0x0d, 0x0a, 0x00, 0x3a, 0x3b, 0x2c, 0x20, 0x09, 0x30, 0x39, 0x66, 0x46, 0x2d, 0x2b, 0x7f, 0xff,
  0x80,
];
/** Tokens worth splicing in whole. */
const TOKENS = [
  '\r\n',
  '\r\n\r\n',
  '\n',
  '\r',
  'Content-Length: ',
  'Transfer-Encoding: chunked',
  'Connection: close',
  'Expect: 100-continue',
  'Host: a',
  ' HTTP/1.1',
  ' HTTP/1.0',
  '0\r\n\r\n',
  'ffffffffffffffff',
  '99999999999',
  ';ext=1',
  'WLF1',
  '\x00\x00\x00\x08',
  '\xff\xff\xff\xff',
  'GET ',
  'POST ',
  'HEAD ',
  '*',
  'http://a/',
].map((t) => Buffer.from(t, 'latin1'));

/** Caps an input so one case stays cheap (the limits tests cover large inputs). */
const MAX_INPUT = 64 * 1024;

export function mutate(rng: Random, seed: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  let data: Buffer = Buffer.from(seed);
  const rounds = rng.int(1, 4);
  for (let i = 0; i < rounds; i++) data = mutateOnce(rng, data, corpus);
  return data.length > MAX_INPUT ? data.subarray(0, MAX_INPUT) : data;
}

function mutateOnce(rng: Random, data: Buffer, corpus: readonly Uint8Array[]): Buffer {
  const at = rng.int(0, data.length);
  switch (rng.int(0, 8)) {
    case 0: // flip one bit
      if (data.length === 0) return data;
      data[Math.min(at, data.length - 1)]! ^= 1 << rng.int(0, 7);
      return data;
    case 1: // overwrite with an interesting byte
      if (data.length === 0) return data;
      data[Math.min(at, data.length - 1)] = interesting(rng);
      return data;
    case 2: // insert an interesting byte
      return insertAt(data, at, Buffer.of(interesting(rng)));
    case 3: {
      // delete a run
      const n = rng.int(1, 16);
      return Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + n))]);
    }
    case 4: {
      // duplicate a run (repeats grow heads, lines, chunks)
      const run = data.subarray(at, at + rng.int(1, 64));
      return insertAt(data, at, Buffer.concat([run, run]));
    }
    case 5: // insert a token
      return insertAt(data, at, TOKENS[rng.int(0, TOKENS.length - 1)]!);
    case 6: {
      // splice with another corpus entry
      const other = corpus[rng.int(0, corpus.length - 1)]!;
      return Buffer.concat([data.subarray(0, at), other.subarray(rng.int(0, other.length))]);
    }
    case 7: // change a number: digits are where lengths and sizes live
      return replaceNumber(rng, data);
    default: // truncate
      return data.subarray(0, at);
  }
}

function interesting(rng: Random): number {
  return INTERESTING[rng.int(0, INTERESTING.length - 1)]!;
}

/** `data` with `bytes` inserted before index `at` (a new buffer). */
function insertAt(data: Buffer, at: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([data.subarray(0, at), bytes, data.subarray(at)]);
}

function replaceNumber(rng: Random, data: Buffer): Buffer {
  const text = data.toString('latin1');
  const numbers = [...text.matchAll(/[0-9a-fA-F]+/g)];
  if (numbers.length === 0) return data;
  const m = numbers[rng.int(0, numbers.length - 1)]!;
  const choices = [
    '0',
    '1',
    '-1',
    '4294967296',
    '18446744073709551616',
    '0x10',
    '00000000001',
    String(rng.u32()),
  ];
  const out =
    text.slice(0, m.index) +
    choices[rng.int(0, choices.length - 1)] +
    text.slice(m.index! + m[0].length);
  return Buffer.from(out, 'latin1');
}
