/**
 * TLS listeners (docs/SECURITY.md, "TLS"). A listener's `tls` option becomes a context in the
 * native shim (host/native/tls.c): certificates and keys are parsed there and stay in host
 * memory; the guest only ever sees plaintext through its usual recv/send. Here: checking the
 * option, making and marking the contexts, their counters in `stats()`, and the certificate
 * swap (`setCertificate`, for the API and the CLI's reload).
 */
import { readFileSync } from 'node:fs';
import { WasmloopError } from './errors.ts';
import { errnoName } from './errno.ts';
import type { Fd } from './kernel/contract.ts';
import type { NativeKernel } from './kernel/native.ts';
import type { ListenOptions, WasmLoop } from './types.ts';

/** A certificate (PEM: the leaf, then its chain) and its private key (PEM), as strings or bytes. */
export interface TlsCertificate {
  cert: string | Uint8Array;
  key: string | Uint8Array;
}

/** A listener's TLS: its default certificate, and more chosen by the client's SNI name. */
export interface TlsOptions extends TlsCertificate {
  /** Certificates chosen when the SNI name matches one of their names (first match wins); an
   *  unknown name, or none, gets the default certificate. */
  sni?: TlsCertificate[];
}

/** Counters of a loop's TLS listeners, added to `stats()` when it has one (process-wide per
 *  listener: every worker's connections count). */
export interface TlsStats {
  tlsHandshakes: number;
  tlsHandshakeFailures: number;
  tlsHandshakeTimeouts: number;
  tlsHandshakesRefused: number;
}

const isPem = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array;

/** createLoop's check of `listen[i].tls` (the contents are checked when the context is made). */
export function checkTlsOption(tls: unknown, where: string): void {
  if (tls === undefined) return;
  const bad = (what: string): never => {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `createLoop: ${where}.tls ${what}`);
  };
  const pair = (v: unknown, at: string): void => {
    if (typeof v !== 'object' || v === null) bad(`${at}must be an object { cert, key }`);
    const { cert, key } = v as Record<string, unknown>;
    if (!isPem(cert) || !isPem(key)) bad(`${at}cert and key must be PEM strings or Buffers`);
  };
  pair(tls, '');
  const sni = (tls as { sni?: unknown }).sni;
  if (sni !== undefined && !Array.isArray(sni)) bad('.sni must be an array of { cert, key }');
  if (Array.isArray(sni)) sni.forEach((s, i) => pair(s, `.sni[${i}] `));
}

const bytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? Buffer.from(v) : v);

type Answer = number | { errno: number; message: string };

function fail(where: string, answer: Answer): never {
  const why = typeof answer === 'number' ? errnoName(answer) : answer.message;
  throw new WasmloopError('ERR_WASMLOOP_TLS', `${where}: ${why}`);
}

/** The limits of the host that apply to TLS (host/limits.ts). */
export interface TlsLimits {
  handshakeTimeoutMs: number;
  maxHandshakes: number;
}

/** One listener's context: its id. ERR_WASMLOOP_TLS with one line when a pair is unusable. */
export function makeTlsContext(
  native: NativeKernel,
  tls: TlsOptions,
  limits: TlsLimits,
  where: string,
): number {
  const id = native.tlsContext(bytes(tls.cert), bytes(tls.key));
  if (typeof id !== 'number' || id < 0) fail(where, id);
  try {
    for (const [i, s] of (tls.sni ?? []).entries()) {
      const r = native.tlsContextAdd(id, bytes(s.cert), bytes(s.key));
      if (r !== 0) fail(`${where} sni[${i}]`, r);
    }
    native.tlsContextLimits(id, limits.handshakeTimeoutMs, limits.maxHandshakes);
  } catch (err) {
    native.tlsContextFree(id);
    throw err;
  }
  return id;
}

/** Marks each listener of `list` that has `tls` (fds[i] is list[i]'s). The context ids, by
 *  listener index (-1: plaintext); on a failure the ones made are freed and it throws. */
export function markTlsListeners(
  native: NativeKernel,
  fds: readonly Fd[],
  list: readonly ListenOptions[],
  limits: TlsLimits,
): number[] {
  const ids: number[] = fds.map(() => -1);
  try {
    list.forEach((l, i) => {
      if (l.tls === undefined) return;
      const id = makeTlsContext(native, l.tls, limits, `listen[${i}].tls`);
      ids[i] = id;
      native.tlsListener(fds[i]!, id);
    });
  } catch (err) {
    freeTlsContexts(native, ids);
    throw err;
  }
  return ids;
}

/** Gives `copy` (another worker's socket for the same address) the mark of `fd`, if any. */
export function copyTlsMark(native: NativeKernel, fd: Fd, copy: Fd): void {
  const id = native.tlsListenerId(fd);
  if (id >= 0) native.tlsListener(copy, id);
}

export function freeTlsContexts(native: NativeKernel, ids: readonly number[]): void {
  for (const id of ids) if (id >= 0) native.tlsContextFree(id);
}

interface TlsState {
  native: NativeKernel;
  ids: number[];
}

const loops = new WeakMap<WasmLoop, TlsState>();

/** Adds the TLS counters to `loop.stats()` and lets `setCertificate` find its contexts; the
 *  contexts are freed when the loop is done (listeners and open connections hold their own). */
export function attachTls(loop: WasmLoop, native: NativeKernel, ids: number[]): WasmLoop {
  if (ids.every((id) => id < 0)) return loop;
  loops.set(loop, { native, ids });
  const plain = loop.stats.bind(loop);
  loop.stats = () => ({ ...plain(), ...tlsStats(native, ids) });
  const free = (): void => freeTlsContexts(native, ids.splice(0));
  loop.done.then(free, free);
  return loop;
}

function tlsStats(native: NativeKernel, ids: readonly number[]): TlsStats {
  const out = [0, 0, 0, 0];
  for (const id of ids) {
    const s = id >= 0 ? native.tlsContextStats(id) : -1;
    if (Array.isArray(s)) s.forEach((v, i) => (out[i]! += v));
  }
  const [tlsHandshakes, tlsHandshakeFailures, tlsHandshakeTimeouts, tlsHandshakesRefused] = out;
  return {
    tlsHandshakes: tlsHandshakes!,
    tlsHandshakeFailures: tlsHandshakeFailures!,
    tlsHandshakeTimeouts: tlsHandshakeTimeouts!,
    tlsHandshakesRefused: tlsHandshakesRefused!,
  };
}

/**
 * Replaces the certificates of TLS listener `listener` of `loop` without dropping a connection:
 * the default one and, with `sni`, the SNI certificates given at start, by position (as many or
 * fewer). Handshakes from now on use them, on every worker; sessions already up keep theirs, and
 * session tickets issued before still resume. Every pair is checked before any is swapped:
 * ERR_WASMLOOP_TLS when one is unusable (the old ones all stay), ERR_WASMLOOP_USAGE when that
 * listener has no TLS. The CLI's SIGHUP calls this with the files read again.
 */
export function setCertificate(loop: WasmLoop, listener: number, tls: TlsCertificate | TlsOptions) {
  const state = loops.get(loop);
  const id = state?.ids[listener] ?? -1;
  if (state === undefined || id < 0) {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `listener ${listener} does not serve TLS`);
  }
  const { native } = state;
  const sni = 'sni' in tls ? (tls.sni ?? []) : [];
  [tls, ...sni].forEach((pair, i) => {
    const check = native.tlsContext(bytes(pair.cert), bytes(pair.key));
    if (typeof check === 'number' && check >= 0) native.tlsContextFree(check);
    else fail(`listener ${listener}${i === 0 ? '' : ` sni[${i - 1}]`}`, check);
  });
  const r = native.tlsContextSwap(id, bytes(tls.cert), bytes(tls.key));
  if (r !== 0) fail(`listener ${listener}`, r);
  sni.forEach((s, i) => {
    const swapped = native.tlsContextAdd(id, bytes(s.cert), bytes(s.key), i);
    if (swapped !== 0) fail(`listener ${listener} sni[${i}]`, swapped);
  });
}

/** One listener's files on the CLI: `--tls-cert`, `--tls-key`, and `--tls-sni-*` pairs. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  sni: { cert?: string; key?: string }[];
}

/** The CLI's `--tls-cert FILE --tls-key FILE` (and SNI pairs) of one listener, read
 *  (ERR_WASMLOOP_TLS when a file cannot be), or undefined for a plaintext listener. A reload
 *  reads them again and hands the result to `setCertificate`. */
export function readTlsFiles(files?: TlsFiles): TlsOptions | undefined {
  if (files?.cert === undefined || files.key === undefined) return undefined;
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new WasmloopError('ERR_WASMLOOP_TLS', `cannot read ${flag} ${file}: ${why}`);
    }
  };
  const sni = files.sni.map((f) => ({
    cert: read('--tls-sni-cert', f.cert!),
    key: read('--tls-sni-key', f.key!),
  }));
  return { cert: read('--tls-cert', files.cert), key: read('--tls-key', files.key), sni };
}
