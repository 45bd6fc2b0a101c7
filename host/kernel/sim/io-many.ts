/**
 * recvMany/sendMany for the simulated kernel (host/kernel/contract.ts describes the contract; the native
 * shim's is wl__io_many in host/native/net.c): the records done one recv/send each, in
 * order, with the shared receive area packed as the shim packs it.
 */
import { Errno } from '../../errno.ts';
import type { Fd, Kernel } from '../contract.ts';
import { IO_RECORD_SIZE } from '../../abi.ts';
import { inBounds, isCount, isMemory } from './util.ts';

type Io = Pick<Kernel, 'recv' | 'send'>;

/** The records [ptr, ptr + n * IO_RECORD_SIZE) done in order; each result in its record. */
export function ioMany(
  k: Io,
  send: boolean,
  fds: Int32Array,
  memory: ArrayBuffer,
  ptr: number,
  n: number,
  area: number,
  areaLen: number,
): number {
  const invalid = checkArgs(fds, memory, ptr, n, area, areaLen);
  if (invalid !== 0) return invalid;
  const words = new Int32Array(memory, ptr, n * 4);
  let free = area;
  for (let i = 0, w = 0; i < n; i++, w += 4) {
    const fd = fds[i]! as Fd; // or the caller's errno, kept below
    const buf = words[w + 1]! >>> 0;
    const len = words[w + 2]! >>> 0;
    const inArea = !send && buf === 0;
    let r: number = fd;
    if (fd < 0) {
      // the caller's verdict on the handle
    } else if (inArea && (len === 0 || len > areaLen)) {
      r = -Errno.EINVAL;
    } else if (inArea && area + areaLen - free < len) {
      r = -Errno.EAGAIN;
    } else if (inArea) {
      r = k.recv(fd, memory, free, len);
      words[w + 1] = free;
      if (r > 0) free += r;
    } else {
      r = send ? k.send(fd, memory, buf, len) : k.recv(fd, memory, buf, len);
    }
    words[w + 3] = r;
  }
  return 0;
}

/** -EINVAL for a bad argument, -EFAULT for records or an area outside `memory`, else 0. */
function checkArgs(
  fds: Int32Array,
  memory: ArrayBuffer,
  ptr: number,
  n: number,
  area: number,
  areaLen: number,
): number {
  if (
    !(fds instanceof Int32Array) ||
    !isCount(ptr) ||
    !isCount(n) ||
    n > fds.length ||
    (ptr & 3) !== 0 ||
    !isCount(area) ||
    !isCount(areaLen)
  ) {
    return -Errno.EINVAL;
  }
  if (
    !isMemory(memory) ||
    !inBounds(memory, ptr, n * IO_RECORD_SIZE) ||
    !inBounds(memory, area, areaLen)
  )
    return -Errno.EFAULT;
  return 0;
}
