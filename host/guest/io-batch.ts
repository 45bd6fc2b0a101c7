/**
 * The recv_many/send_many hostcalls (docs/ABI.md): the call as a whole is checked here, then
 * every record's handle, and the fds (or errnos) go to the kernel through its descriptor array
 * (contract.ts ioDescriptors, written right before each call: loops sharing a kernel on one
 * thread take turns, never interleave), which does all the records in one call and checks
 * each record's buffer itself.
 */
import { IO_MANY_MAX, IO_RECORD_SIZE } from '../abi.ts';
import { Errno } from '../errno.ts';
import { Kind, type Handle, type HandleTable } from './handles.ts';
import type { Kernel } from '../kernel/contract.ts';
import { takeCarried } from './carried.ts';

/** Input carried over to an instance, by handle (host/guest/carried.ts), or null for none. */
type Carried = Map<number, Uint8Array> | null;

export class IoBatch {
  // The memory as i32s, and the buffer it views. Checked by identity on every call: the
  // guest may grow its memory (a new buffer) between any two calls. Not `words.buffer`: that
  // getter is a C++ builtin call in V8, on every hostcall.
  private mem = new ArrayBuffer(0);
  private words = new Int32Array(this.mem);
  private readonly fds: Int32Array; // the kernel's (contract.ts ioDescriptors)

  constructor(
    private readonly handles: HandleTable,
    private readonly kernel: Kernel,
  ) {
    this.fds = kernel.ioDescriptors;
  }

  /** `n` records at `ptr` of `mem`: recv (into the area where a record's buf is 0) or send.
   *  `carried`: input carried over from a trapped instance, which a recv serves first. */
  run(
    mem: ArrayBuffer,
    ptr: number,
    n: number,
    area: number,
    areaLen: number,
    send: boolean,
    carried: Carried = null,
  ): number {
    if (n < 0 || n > IO_MANY_MAX || (ptr & 3) !== 0) return -Errno.EINVAL;
    const size = mem.byteLength;
    if (ptr + n * IO_RECORD_SIZE > size || area + areaLen > size) return -Errno.EFAULT;
    if (carried !== null && carried.size > 0 && !send)
      return this.recvCarried(carried, mem, ptr, n, area, areaLen);
    if (mem !== this.mem) {
      this.mem = mem;
      this.words = new Int32Array(mem);
    }
    if (n === 1) return this.runOne(mem, ptr >>> 2, area, areaLen, send);
    const words = this.words;
    const fds = this.fds;
    for (let i = 0, w = ptr >>> 2; i < n; i++, w += 4)
      fds[i] = this.handles.fd(words[w]! as Handle, Kind.Conn); // the guest's word, checked here
    const kernel = this.kernel;
    return send ? kernel.sendMany(mem, ptr, n) : kernel.recvMany(mem, ptr, n, area, areaLen);
  }

  /** A batch of one (the guest core's usual batch at one connection), done with the plain
   *  recv/send of the kernel, which cost less than its batch calls; same result as they give. */
  private runOne(
    mem: ArrayBuffer,
    w: number,
    area: number,
    areaLen: number,
    send: boolean,
  ): number {
    const words = this.words;
    const fd = this.handles.fd(words[w]! as Handle, Kind.Conn); // the guest's word, checked here
    const buf = words[w + 1]! >>> 0;
    const len = words[w + 2]! >>> 0;
    const inArea = !send && buf === 0;
    let r: number = fd;
    if (fd < 0) {
      // the handle's verdict
    } else if (len === 0 || (inArea && len > areaLen)) {
      r = -Errno.EINVAL;
    } else if (inArea) {
      r = this.kernel.recv(fd, mem, area, len);
      words[w + 1] = area;
    } else {
      r = send ? this.kernel.send(fd, mem, buf, len) : this.kernel.recv(fd, mem, buf, len);
    }
    words[w + 3] = r;
    return 0;
  }

  /** recv_many while some handles hold carried input (docs/ABI.md, wl_adopt): the records are
   *  done one at a time, in order, exactly as recv_many does them, except that a handle with
   *  carried input is served from it. Only right after a trap, so speed does not matter. */
  private recvCarried(
    carried: Map<number, Uint8Array>,
    mem: ArrayBuffer,
    ptr: number,
    n: number,
    area: number,
    areaLen: number,
  ): number {
    const words = new Int32Array(mem, ptr, n * 4);
    const end = area + areaLen;
    let free = area;
    for (let i = 0, w = 0; i < n; i++, w += 4) {
      const handle = words[w]! as Handle; // the guest's word, checked by fd()
      const buf = words[w + 1]! >>> 0;
      const len = words[w + 2]! >>> 0;
      const inArea = buf === 0;
      const fd = this.handles.fd(handle, Kind.Conn);
      let r: number = fd;
      if (fd < 0) {
        // the handle's verdict
      } else if (inArea && (len === 0 || len > areaLen)) {
        r = -Errno.EINVAL;
      } else if (inArea && end - free < len) {
        r = -Errno.EAGAIN;
      } else if (carried.has(handle)) {
        r = takeCarried(carried, handle, mem, inArea ? free : buf, len);
        if (inArea) words[w + 1] = free;
      } else {
        this.run(mem, ptr + i * IO_RECORD_SIZE, 1, free, end - free, false);
        r = words[w + 3]!;
      }
      if (inArea && r > 0) free += r;
      words[w + 3] = r;
    }
    return 0;
  }
}
