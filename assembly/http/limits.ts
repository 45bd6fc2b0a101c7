// The HTTP limits: defaults an app may change at its top level (before wl_init), overridden by
// the host's values (`-W name=value`, createLoop `limits`), read once in wl_init.

import { limit } from "../config";
import { BUF_SIZE } from "../pool";
import { ANY_TARGET, TARGET } from "./chars";

/** Defaults the app may change at top level, e.g. `http.defaults.maxBodyBytes = 1 << 20`. */
@final
export class HttpDefaults {
  /** `max-header-bytes`: request line + header section, and the trailer section (431). */
  maxHeaderBytes: f64 = 16384;
  /** `max-target-bytes`: the request-target (414). */
  maxTargetBytes: f64 = 8192;
  /** `max-headers`: field lines in the header section, and in the trailer section (431). */
  maxHeaders: f64 = 100;
  /** `max-body-bytes`: the request content, declared or received (413). */
  maxBodyBytes: f64 = 1073741824;
  /** `header-timeout-ms`: from a head's first byte to its end (408), and from accept to the
   *  first byte (closed silently). */
  headerTimeoutMs: f64 = 10000;
  /** `keepalive-timeout-ms`: an idle keep-alive connection between requests is closed. */
  keepAliveTimeoutMs: f64 = 5000;
  /** `body-timeout-ms`: a request body has this long from its head's end to arrive (408, or a
   *  close once the response has begun); 0 turns the body deadline off. */
  bodyTimeoutMs: f64 = 20000;
  /** `body-min-rate`: each this many body bytes received extend that deadline by 1 s
   *  (mod_reqtimeout's MinRate; no upper bound, as there); 0: no extension. */
  bodyMinRate: f64 = 500;
}

export const defaults = new HttpDefaults();

/** A head must fit in one connection input buffer with room to spare: the core closes a
 *  connection whose full buffer the protocol cannot consume. */
export const HEAD_CAP: i32 = BUF_SIZE - 4096;

/** Longest method token: no method registered with IANA comes close; longer is 501. */
export const MAX_METHOD: i32 = 32;
/** hello's whole head (it reads no size limits): over it 431, or 414 in the request line. */
export const HELLO_MAX_HEAD: i32 = 8192;

export let maxHeaderBytes: i32 = 16384;
export let maxTargetBytes: i32 = 8192;
export let maxHeaders: i32 = 100;
export let maxMethodBytes: i32 = MAX_METHOD;
export let maxBodyBytes: i64 = 1073741824;
export let headerTimeoutMs: f64 = 10000;
export let keepAliveTimeoutMs: f64 = 5000;
export let bodyTimeoutMs: f64 = 20000;
/** Milliseconds of extra body deadline per body byte received (1000 / body-min-rate). */
export let bodyMsPerByte: f64 = 2;

function clamp(v: f64, lo: f64, hi: f64): f64 {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Reads the limits; called once from wl_init (limit() allocates). */
export function readLimits(): void {
  maxHeaderBytes = <i32>(
    clamp(limit("max-header-bytes", defaults.maxHeaderBytes), 64, <f64>HEAD_CAP)
  );
  maxTargetBytes = <i32>(
    clamp(limit("max-target-bytes", defaults.maxTargetBytes), 1, <f64>maxHeaderBytes)
  );
  maxHeaders = <i32>clamp(limit("max-headers", defaults.maxHeaders), 1, 10000);
  maxBodyBytes = <i64>clamp(limit("max-body-bytes", defaults.maxBodyBytes), 0, 9007199254740991);
  headerTimeoutMs = limit("header-timeout-ms", defaults.headerTimeoutMs);
  keepAliveTimeoutMs = limit("keepalive-timeout-ms", defaults.keepAliveTimeoutMs);
  bodyTimeoutMs = limit("body-timeout-ms", defaults.bodyTimeoutMs);
  const rate = limit("body-min-rate", defaults.bodyMinRate);
  bodyMsPerByte = rate > 0 ? 1000 / rate : 0;
}

/** The scanner (scan.ts) applies hello's rules instead of the SDK's (docs/HTTP.md). */
export let helloRules = false;
/** The byte class (chars.ts) of the request-target's plain bytes under the rules in force. */
export let targetClass: u8 = TARGET;

/** Switches the scanner to hello's smaller rule set, for good (hello's init): a head of at
 *  most HELLO_MAX_HEAD bytes and no other size limit, a target of any bytes but SP and CTL
 *  (no %XX check), Transfer-Encoding refused (501), a 16th Content-Length digit 400 (not 413),
 *  Host and Expect not checked, and Connection's last "close" or "keep-alive" deciding. */
export function useHelloRules(): void {
  helloRules = true;
  targetClass = ANY_TARGET;
  maxHeaderBytes = HELLO_MAX_HEAD;
  // Bounded by the head alone: no part of it can pass these before the head does.
  maxTargetBytes = HELLO_MAX_HEAD;
  maxMethodBytes = HELLO_MAX_HEAD;
  maxHeaders = HELLO_MAX_HEAD;
  maxBodyBytes = 9007199254740991; // 15 digits stay below it: only the digit count limits
}
