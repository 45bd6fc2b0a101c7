/**
 * What is fuzzed: each target names a guest, the seed inputs its mutations start from, and the
 * oracle that says whether the guest's answer to one input kept its contract.
 */
import { existsSync } from 'node:fs';
import { loadCorpus } from '../test/helpers/http-corpus.ts';
import { expectHello } from './hello-reference.ts';
import { compareHttp, type Outcome } from './http-oracle.ts';
import { expectSdk } from './http-reference.ts';

export type { Outcome } from './http-oracle.ts';

export interface FuzzTarget {
  name: string;
  /** A guest under wasm/ (without .wasm). */
  guest: string;
  seeds(): Uint8Array[];
  /** null when the outcome keeps the contract, else why not. */
  check(input: Uint8Array, outcome: Outcome): string | null;
}

/** HTTP, the SDK (inspect): every request served, refused or left waiting exactly as the
 *  rules of docs/HTTP.md say (fuzz/http-reference.ts), with a status they give. */
function checkSdk(input: Uint8Array, outcome: Outcome): string | null {
  return compareHttp(expectSdk(input), outcome);
}

/** HTTP, hello: the same, by hello's own smaller rules (fuzz/hello-reference.ts). */
function checkHello(input: Uint8Array, outcome: Outcome): string | null {
  return compareHttp(expectHello(input), outcome);
}

function httpSeeds(filter: (req: Buffer) => boolean = () => true): () => Uint8Array[] {
  return () =>
    loadCorpus('test/http')
      .map((c) => c.request)
      .filter(filter);
}

/** frame: the guest echoes each frame as it streams through and closes on a bad header, so
 *  its answer is always a prefix of the input, and a refused header ends the connection. */
function checkFrame(input: Uint8Array, { output, endedByGuest }: Outcome): string | null {
  if (
    output.length > input.length ||
    !Buffer.from(input.subarray(0, output.length)).equals(output)
  ) {
    return 'answer is not a prefix of the input';
  }
  const bad = firstBadHeader(input, 1 << 20);
  if (bad >= 0 && output.length <= bad && !endedByGuest)
    return `bad header at ${bad} but the connection stayed open`;
  return null;
}

/** Offset of the first frame header that must be refused (bad magic or length over max), or -1. */
function firstBadHeader(input: Uint8Array, max: number): number {
  let at = 0;
  while (at + 8 <= input.length) {
    const b = Buffer.from(input.buffer, input.byteOffset + at, 8);
    if (b.toString('latin1', 0, 4) !== 'WLF1' || b.readUInt32BE(4) > max) return at;
    at += 8 + b.readUInt32BE(4);
  }
  return -1;
}

function frameSeeds(): Uint8Array[] {
  const frame = (payload: string) => {
    const head = Buffer.alloc(8);
    head.write('WLF1', 0, 'latin1');
    head.writeUInt32BE(payload.length, 4);
    return Buffer.concat([head, Buffer.from(payload, 'latin1')]);
  };
  return [
    frame(''),
    frame('hello'),
    Buffer.concat([frame('a'), frame('bc'), frame('x'.repeat(300))]),
    frame('y'.repeat(70_000)),
  ];
}

export const TARGETS: FuzzTarget[] = [
  { name: 'http', guest: 'inspect', seeds: httpSeeds(), check: checkSdk },
  {
    name: 'chunked',
    guest: 'inspect',
    seeds: httpSeeds((r) => /chunked/i.test(r.toString('latin1'))),
    check: checkSdk,
  },
  { name: 'hello', guest: 'hello', seeds: httpSeeds(), check: checkHello },
  { name: 'frame', guest: 'frame', seeds: frameSeeds, check: checkFrame },
];

/** The targets whose guest is built. */
export function availableTargets(): FuzzTarget[] {
  return TARGETS.filter((t) => existsSync(`wasm/${t.guest}.wasm`));
}
