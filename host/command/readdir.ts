/**
 * fd_readdir with `.` and `..` (docs/WASI.md, "Differences from the spec"): POSIX readdir and
 * wasmtime list them first, but neither backend does (node:wasi's libuv drops them; @wasmer/wasi
 * lists a stray "/." instead), and programs that count on them (a `ls -a`, a test that checks
 * them) see a different directory than under wasmtime. wasmloop puts its own two entries in
 * front of the backend's and drops any the backend gives for them.
 *
 * Cookies: 0 is the start (then "."), 1 is after "." (then ".."), and a backend cookie C is
 * C + 2, so every d_next the guest gets is a cookie it can pass back, from either backend
 * (node:wasi's are telldir positions, @wasmer/wasi's indexes: all far below 2^64 - 2).
 * A dirent (preview1): d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20, 24 bytes,
 * then the name. As the spec says, a buffer that is filled (bufused == buf_len) may end in a
 * cut entry, and one that is not means the end of the directory.
 */
import { Errno } from '../errno.ts';
import { fits, type WasiFunction } from './stdio.ts';

const DIRENT_SIZE = 24;
const FILETYPE_DIRECTORY = 3;
/** Names the backend may give for the entries wasmloop adds itself. */
const DOT_NAMES = new Set(['.', '..', '/.', '/..']);

/** One dirent's bytes. d_ino is 0 for "." and "..": the backend gives no cheap way to them. */
function dirent(next: bigint, name: string, type: number, ino = 0n): Uint8Array {
  const bytes = Buffer.from(name);
  const out = new Uint8Array(DIRENT_SIZE + bytes.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, next, true);
  view.setBigUint64(8, ino, true);
  view.setUint32(16, bytes.length, true);
  view.setUint8(20, type);
  out.set(bytes, DIRENT_SIZE);
  return out;
}

/** The backend's fd_readdir(fd, buf, buf_len, cookie, bufused) with "." and ".." in front. */
export function withDotEntries(fdReaddir: WasiFunction, memory: () => ArrayBuffer): WasiFunction {
  return (fd, bufArg, lenArg, cookieArg, usedArg) => {
    const [buf, len, usedPtr] = [Number(bufArg), Number(lenArg), Number(usedArg)];
    const cookie = BigInt(cookieArg as bigint);
    if (!fits(memory(), buf, len) || !fits(memory(), usedPtr, 4)) return Errno.EFAULT;
    const out: Uint8Array[] = [];
    if (cookie === 0n) out.push(dirent(1n, '.', FILETYPE_DIRECTORY));
    if (cookie <= 1n) out.push(dirent(2n, '..', FILETYPE_DIRECTORY));
    const rc = backendEntries(fdReaddir, memory, [fd, buf, len, usedPtr], cookie, out);
    if (rc !== Errno.ESUCCESS) return rc;
    const bytes = Buffer.concat(out);
    const used = Math.min(bytes.length, len);
    new Uint8Array(memory(), buf, used).set(bytes.subarray(0, used));
    new DataView(memory()).setUint32(usedPtr, used, true);
    return Errno.ESUCCESS;
  };
}

/** Appends the backend's entries from `cookie` on to `out` until they fill `len` bytes or the
 *  directory ends, reading them through the guest's own buffer (overwritten afterwards). */
function backendEntries(
  fdReaddir: WasiFunction,
  memory: () => ArrayBuffer,
  [fd, buf, len, usedPtr]: [number | bigint, number, number, number],
  cookie: bigint,
  out: Uint8Array[],
): number {
  let from = cookie < 2n ? 0n : cookie - 2n;
  let size = out.reduce((n, e) => n + e.length, 0);
  do {
    const rc = Number(fdReaddir(fd, buf, len, from, usedPtr));
    if (rc !== Errno.ESUCCESS) return rc;
    const used = new DataView(memory()).getUint32(usedPtr, true);
    const { whole, cut } = splitEntries(new Uint8Array(memory(), buf, used));
    for (const entry of cut ? [cut] : whole) {
      const view = new DataView(entry.buffer, entry.byteOffset);
      from = view.getBigUint64(0, true);
      view.setBigUint64(0, from + 2n, true);
      const name = Buffer.from(entry.subarray(DIRENT_SIZE)).toString();
      if (!cut && DOT_NAMES.has(name)) continue;
      out.push(entry);
      size += entry.length;
    }
    // The end of the directory, or one entry longer than the whole buffer (given cut, as the
    // backend gave it: the guest asks again with a larger one).
    if (used < len || cut) return Errno.ESUCCESS;
  } while (size < len);
  return Errno.ESUCCESS;
}

/** Copies of the whole entries in `area`; when not even one is whole, the cut one alone. */
function splitEntries(area: Uint8Array): { whole: Uint8Array[]; cut?: Uint8Array } {
  const view = new DataView(area.buffer, area.byteOffset, area.length);
  const whole: Uint8Array[] = [];
  let at = 0;
  while (at + DIRENT_SIZE <= area.length) {
    const end = at + DIRENT_SIZE + view.getUint32(at + 16, true);
    if (end > area.length) break;
    whole.push(area.slice(at, end));
    at = end;
  }
  if (whole.length === 0 && area.length >= DIRENT_SIZE) return { whole, cut: area.slice() };
  return { whole };
}
