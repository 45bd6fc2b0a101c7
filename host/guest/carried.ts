/**
 * Input carried over from a trapped instance (host/guest/salvage.ts): the next instance's first
 * recv calls on that connection return it before anything the socket has since received.
 */
import { Errno } from '../errno.ts';

/** recv from carried input, with the kernel recv's contract (EINVAL for len 0, EFAULT out of
 *  memory); what is returned leaves `carried`. */
export function takeCarried(
  carried: Map<number, Uint8Array>,
  handle: number,
  mem: ArrayBuffer,
  ptr: number,
  len: number,
): number {
  const bytes = carried.get(handle)!;
  if (len === 0) return -Errno.EINVAL;
  if (ptr + len > mem.byteLength) return -Errno.EFAULT;
  const n = Math.min(len, bytes.length);
  new Uint8Array(mem, ptr, n).set(bytes.subarray(0, n));
  if (n < bytes.length) carried.set(handle, bytes.subarray(n));
  else carried.delete(handle);
  return n;
}
