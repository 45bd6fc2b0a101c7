/**
 * The recv_many/send_many hostcalls (docs/ABI.md): the call as a whole is checked here, then
 * every record's handle, and the fds (or errnos) go to the kernel, which does all the records
 * in one call and checks each record's buffer itself.
 */
import { IO_MANY_MAX, IO_RECORD_SIZE } from '../abi.ts';
import { Errno } from '../errno.ts';
import { Kind, type Handle, type HandleTable } from './handles.ts';
import type { Kernel } from '../kernel/contract.ts';

export class IoBatch {
  private words = new Int32Array(0); // the memory as i32s, kept until the memory grows
  private readonly fds = new Int32Array(IO_MANY_MAX);

  constructor(private readonly handles: HandleTable, private readonly kernel: Kernel) {}

  /** `n` records at `ptr` of `mem`: recv (into the area where a record's buf is 0) or send. */
  run(mem: ArrayBuffer, ptr: number, n: number, area: number, areaLen: number, send: boolean): number {
    if (n < 0 || n > IO_MANY_MAX || (ptr & 3) !== 0) return -Errno.EINVAL;
    if (ptr + n * IO_RECORD_SIZE > mem.byteLength || area + areaLen > mem.byteLength) return -Errno.EFAULT;
    if (this.words.buffer !== mem) this.words = new Int32Array(mem);
    const words = this.words;
    const fds = this.fds;
    for (let i = 0, w = ptr >>> 2; i < n; i++, w += 4) fds[i] = this.handles.fd(words[w]! as Handle, Kind.Conn); // the guest's word, checked here
    const kernel = this.kernel;
    return send ? kernel.sendMany(fds, mem, ptr, n) : kernel.recvMany(fds, mem, ptr, n, area, areaLen);
  }
}
