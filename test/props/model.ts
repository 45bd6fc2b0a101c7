/**
 * What the property runner (test/props/runner.ts) needs to know about a guest: how to make
 * up a conversation for one connection and what the guest must answer. A guest model is one
 * small file (echo.ts, hello.ts, frame.ts) registered in models.ts; the runner does the rest
 * (peers, chunking, faults, clock, checks).
 *
 * The model is a specification, written independently of the guest: the runner compares the
 * guest's bytes with `output` exactly, so the model must know the guest's answers byte for byte.
 */
import type { Random } from '../../host/kernel/sim/random.ts';

/** One connection's conversation. */
export interface Exchange {
  /** Bytes the peer writes, in order (the runner decides the chunking and timing). */
  input: Uint8Array;
  /** Bytes the guest must send back for the whole input, in order. */
  output: Uint8Array;
  /** The guest ends the connection itself once `output` is sent (Connection: close, a refused
   *  request, a bad frame): the peer sees FIN although it has not closed. */
  ends: boolean;
  /** The guest refuses the input: this connection counts once in protocol_errors. */
  refused: boolean;
  /** Protocol units the guest counts in `requests` for this input (HTTP requests answered,
   *  frames echoed), or undefined when the count is not a property of the input (echo counts
   *  reads). */
  units: number | undefined;
  /** Offsets in `output` of Date header values (DATE_VALUE_BYTES each, placeholders in
   *  `output`): the runner accepts any IMF-fixdate of the simulated wall clock there. */
  dates?: readonly number[];
}

/** An IMF-fixdate is 29 bytes: "Sun, 06 Nov 1994 08:49:37 GMT". */
export const DATE_VALUE_BYTES = 29;
const DATE_PLACEHOLDER = '#'.repeat(DATE_VALUE_BYTES);
/** The Date line a model writes into an expected response head, right after the status line. */
export const DATE_LINE = `Date: ${DATE_PLACEHOLDER}\r\n`;

/** Whether `v` is an IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function isImfFixdate(v: string): boolean {
  return (
    /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v) &&
    new Date(Date.parse(v)).toUTCString() === v
  );
}

/** `text` encoded, and the offsets of the Date values its DATE_LINEs stand for. */
export function withDates(text: string): { output: Uint8Array; dates: number[] } {
  const output = new TextEncoder().encode(text);
  const needle = Buffer.from(`\r\n${DATE_LINE}`, 'latin1');
  const haystack = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const dates: number[] = [];
  for (
    let at = haystack.indexOf(needle);
    at >= 0;
    at = haystack.indexOf(needle, at + needle.length)
  ) {
    dates.push(at + '\r\nDate: '.length);
  }
  return { output, dates };
}

export interface GuestModel {
  /** The guest's build name: wasm/NAME.wasm and wasm/debug/NAME.wasm. */
  readonly guest: string;
  /** One line for --help and failure reports. */
  readonly about: string;
  /** Limits the guest runs with (the `limit` hostcall), if the model needs any. */
  readonly limits?: Readonly<Record<string, number>>;
  /**
   * How memory is compared across rounds after priming: 'heap' (default) to the byte, for
   * guests whose only lazily allocated memory is the core's buffer pool, which priming fills;
   * 'pages' by `memory.byteLength` only, for guests with pools of their own whose high-water
   * mark depends on timing (bounded, but not something priming can reach exactly).
   */
  readonly memoryCheck?: 'heap' | 'pages';
  /** A random conversation with about `budget` input bytes (a hint; 0 is allowed). */
  exchange(rng: Random, budget: number): Exchange;
  /**
   * A conversation that, sent at once to a peer whose window is 0, makes the connection hold
   * as many pooled I/O buffers as it ever holds (`buffers`: 1 = output only, 2 = input and
   * output). The runner uses it to fill the pool to its high-water mark before it compares
   * memory across rounds, and checks `buffersInUse` against it.
   */
  prime(): { exchange: Exchange; buffers: number };
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `n` seeded random bytes. */
export function randomBytes(rng: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = rng.u32();
    out[i] = w;
    out[i + 1] = w >>> 8;
    out[i + 2] = w >>> 16;
    out[i + 3] = w >>> 24;
  }
  for (; i < n; i++) out[i] = rng.u32();
  return out;
}

export { weighted } from '../../host/kernel/sim/random.ts';
