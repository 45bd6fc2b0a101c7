/**
 * The request line for the HTTP reference (fuzz/http-reference.ts): the faults its bytes prove
 * as they arrive (method, target, version, in byte order) and the target's form, checked with
 * regular expressions apart from the guest's byte scanner.
 */
import { TCHAR } from './http-early.ts';
import type { HttpLimits } from './http-reference.ts';

const MAX_METHOD = 32;
const TARGET_CHAR = /^(?:[-._~!$&'()*+,;=:@/?[\]0-9A-Za-z]|%[0-9A-Fa-f]{2})*$/;

/** The request line (without its CRLF; `whole` when the CR was seen): the status of its first
 *  fault in byte order, or 0 when what arrived is (still) valid. */
export function lineStatus(line: string, whole: boolean, limits: HttpLimits): number {
  const sp1 = line.indexOf(' ');
  const method = sp1 < 0 ? line : line.slice(0, sp1);
  // Byte by byte: the 33rd token byte of a method is already 501, whatever follows.
  const tokenRun = new RegExp(`^${TCHAR}*`).exec(method)![0].length;
  if (tokenRun > MAX_METHOD) return 501;
  if (tokenRun < method.length || sp1 === 0) return 400;
  if (sp1 < 0) return whole ? 400 : 0;
  const rest = line.slice(sp1 + 1);
  const sp2 = rest.indexOf(' ');
  const target = targetStatus(sp2 < 0 ? rest : rest.slice(0, sp2), sp2, whole, limits);
  if (target !== 0) return target;
  if (sp2 < 0) return whole ? 400 : 0;
  return versionStatus(rest.slice(sp2 + 1), whole);
}

/** The target's bytes (`sp2`: where the SP after it is, -1 when it has not come). */
function targetStatus(target: string, sp2: number, whole: boolean, limits: HttpLimits): number {
  const checked = target.slice(0, limits.maxTargetBytes);
  // A partial "%X" at the end of what arrived may still become valid; one the limit cuts short
  // is judged by the byte past the limit, which makes the target too long (414) whatever it is.
  const cut = target.length > limits.maxTargetBytes;
  const partial = (sp2 < 0 && !whole) || cut ? checked.replace(/%[0-9A-Fa-f]?$/, '') : checked;
  if (!TARGET_CHAR.test(partial) || sp2 === 0) return 400;
  if (target.length > limits.maxTargetBytes) return 414;
  return 0;
}

/** The version's bytes so far against the shape HTTP/d.d (a whole line needs all of it). */
function versionStatus(version: string, whole: boolean): number {
  const shape = 'HTTP/0.0'.slice(0, version.length);
  const okSoFar = [...version].every((c, i) =>
    shape[i] === '0' ? /[0-9]/.test(c) : c === shape[i],
  );
  return !okSoFar || version.length > 8 || (whole && version.length !== 8) ? 400 : 0;
}

/** A request line still arriving may already prove its version (505: "HTTP/2", "HTTP/1.2")
 *  or, once the target is followed by its SP, the target's form (400). */
export function partialLineFaults(line: string, meaning: Set<number>): void {
  const m = /^([^ ]*) ([^ ]*) (.*)$/.exec(line);
  if (m === null) return;
  if (!targetFits(m[1]!, m[2]!)) meaning.add(400);
  if (/^HTTP\/(?:[02-9]|1\.[2-9])/.test(m[3]!)) meaning.add(505);
}

/** Whether the target has a form its method allows: origin, absolute, authority (CONNECT) or
 *  asterisk (OPTIONS). */
export function targetFits(method: string, target: string): boolean {
  if (method === 'CONNECT') return validHost(target, true);
  if (target.startsWith('/')) return true;
  if (target === '*') return method === 'OPTIONS';
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?]*)/.exec(target);
  return m !== null && m[1]!.length > 0 && validHost(m[1]!, false);
}

/** uri-host [":" port]: reg-name (unreserved, sub-delims, %XX) or [literal]; port digits. */
export function validHost(v: string, needPort: boolean): boolean {
  const m =
    /^(?:\[[0-9A-Fa-f:.vV]+\]|(?:[-._~!$&'()*+,;=0-9A-Za-z]|%[0-9A-Fa-f]{2})*)(?::([0-9]*))?$/.exec(
      v,
    );
  if (m === null) return false;
  if (!needPort) return true;
  return m[1] !== undefined && m[1].length > 0 && !v.startsWith(':');
}
