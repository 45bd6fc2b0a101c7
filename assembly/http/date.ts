// The Date header (RFC 9110 6.6.1: an origin server with a clock must send one), in the
// IMF-fixdate form "Sun, 06 Nov 1994 08:49:37 GMT". The wall clock is read with the `wall_ms`
// hostcall at most once a second: the line is formatted then and reused until the second ends
// by the monotonic clock, so a response costs no hostcall and no formatting.

import { wl_wall_ms } from "../abi";
import { connNow } from "../socket";
import { putAscii } from "./put";

/** "Date: " + 29 characters + CRLF. */
export const DATE_LINE_BYTES: i32 = 37;
const LINE: usize = memory.data(DATE_LINE_BYTES);

/** 9999-12-31T23:59:59Z: IMF-fixdate has four digits for the year. */
const LAST_SECOND_MS: f64 = 253402300799000;

let validUntil: f64 = -1; // monotonic ms at which LINE stops being this second's

/** Moves each time the line is formatted anew: a copy of it is current while this is unchanged. */
export let dateGeneration: i32 = 0;

const DAYS = "SunMonTueWedThuFriSat";
const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

/** The address of "Date: ...\r\n" for the current second (DATE_LINE_BYTES long). Inlined:
 *  every response asks, and all but one a second find the line current. */
// @ts-ignore: decorator
@inline export function dateLine(): usize {
  const now = connNow();
  if (now >= validUntil || now < validUntil - 1000) newSecond(now);
  return LINE;
}

function newSecond(now: f64): void {
  const wall = Math.min(Math.max(0, wl_wall_ms()), LAST_SECOND_MS); // four-digit years
  formatDate(LINE, <i64>Math.floor(wall / 1000));
  validUntil = now + 1000 - (wall % 1000);
  dateGeneration++;
}

/** Writes "Date: <IMF-fixdate>\r\n" for `secs` since the Unix epoch (UTC) at dst. */
export function formatDate(dst: usize, secs: i64): void {
  const days = secs / 86400;
  const rem = <i32>(secs % 86400);
  // Civil date from a day count (the proleptic Gregorian calendar, era of 400 years).
  const z = days + 719468;
  const era = z / 146097;
  const doe = <i32>(z - era * 146097);
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = <i32>(era * 400) + yoe + (month <= 2 ? 1 : 0);
  let at = dst + <usize>putAscii(dst, "Date: ");
  at = put3(at, DAYS, <i32>((days + 4) % 7)); // 1970-01-01 was a Thursday
  at = putChars(at, ", ");
  at = put2(at, day);
  store<u8>(at++, 0x20);
  at = put3(at, MONTHS, month - 1);
  store<u8>(at++, 0x20);
  at = put2(at, year / 100);
  at = put2(at, year % 100);
  store<u8>(at++, 0x20);
  at = put2(at, rem / 3600);
  store<u8>(at++, 0x3a);
  at = put2(at, (rem / 60) % 60);
  store<u8>(at++, 0x3a);
  at = put2(at, rem % 60);
  putChars(at, " GMT\r\n");
}

function put2(at: usize, v: i32): usize {
  store<u8>(at, <u8>(0x30 + v / 10));
  store<u8>(at + 1, <u8>(0x30 + (v % 10)));
  return at + 2;
}

function put3(at: usize, names: string, i: i32): usize {
  for (let k = 0; k < 3; k++) store<u8>(at + <usize>k, <u8>names.charCodeAt(i * 3 + k));
  return at + 3;
}

function putChars(at: usize, s: string): usize {
  return at + <usize>putAscii(at, s);
}
