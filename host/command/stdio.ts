/**
 * Stdio for WASI commands (host/command/command.ts): blocking reads and writes on host fds that may be
 * non-blocking, fd_read into the guest's iovecs, which guest fds are still the host's stdio,
 * and the u32 view of WASI arguments. docs/WASI.md, "How stdio is streamed", says why.
 */
import { byteLengthOf } from './memview.ts';
import { readSync, writeSync } from 'node:fs';
import { Errno } from '../errno.ts';
import { sleep } from './abort.ts';

export type WasiFunction = (...args: (number | bigint)[]) => unknown;
export type WasiFunctions = Record<string, WasiFunction>;

/** Host file descriptors behind the guest's fds 0, 1 and 2. */
export interface Stdio {
  stdin: number;
  stdout: number;
  stderr: number;
}

/** Waits for a non-blocking fd (a TTY or a pipe someone set O_NONBLOCK on) to become ready. The
 *  guest runs synchronously on this thread, so there is no event loop to wait on: sleep briefly
 *  and retry, backing off to 50 ms so an idle terminal costs little. */
export class Backoff {
  private ms = 0;
  wait(): void {
    this.ms = Math.min(this.ms === 0 ? 1 : this.ms * 2, 50);
    sleep(this.ms);
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The WASI errno for a Node fs error (EIO when it has no WASI equivalent). */
export function toErrno(err: unknown): number {
  const code = errCode(err);
  return code !== undefined && code !== 'ESUCCESS' && code in Errno
    ? Errno[code as keyof typeof Errno]
    : Errno.EIO;
}

/** One read(2) that waits out EAGAIN and EINTR: the bytes read, 0 at end of input. */
function readBlocking(fd: number, into: Uint8Array): number {
  const backoff = new Backoff();
  for (;;) {
    try {
      return readSync(fd, into, 0, into.length, null);
    } catch (err) {
      if (errCode(err) === 'EAGAIN') backoff.wait();
      else if (errCode(err) !== 'EINTR') throw err;
    }
  }
}

/** Writes all of `bytes`, waiting out EAGAIN/EINTR and short writes. Throws other errors. */
export function writeBlocking(fd: number, bytes: Uint8Array): void {
  const backoff = new Backoff();
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if (errCode(err) === 'EAGAIN') backoff.wait();
      else if (errCode(err) !== 'EINTR') throw err;
    }
  }
}

export function fits(memory: ArrayBuffer, ptr: number, len: number): boolean {
  return ptr + len <= byteLengthOf(memory);
}

/**
 * fd_read into the guest's iovecs from a host fd. Reads once, into the first non-empty buffer:
 * like readv(2) on a pipe it returns what is available now instead of blocking until every
 * buffer is full, which is what makes interactive stdin work.
 */
export function readIntoIovecs(
  memory: ArrayBuffer,
  fd: number,
  iovs: number,
  count: number,
  nread: number,
): number {
  if (!fits(memory, iovs, count * 8) || !fits(memory, nread, 4)) return Errno.EFAULT;
  const view = new DataView(memory);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    if (len === 0) continue;
    if (!fits(memory, ptr, len)) return Errno.EFAULT;
    try {
      n = readBlocking(fd, new Uint8Array(memory, ptr, len));
    } catch (err) {
      return toErrno(err);
    }
    break;
  }
  view.setUint32(nread, n, true);
  return Errno.ESUCCESS;
}

/** Wraps fd_read/fd_write so that EAGAIN on fds 0-2 (a non-blocking stdio fd) is waited out
 *  rather than handed to a guest that, like most programs, treats it as a failure. */
export function retryStdioEagain(fn: WasiFunction): WasiFunction {
  return (fd, ...rest) => {
    const backoff = new Backoff();
    for (;;) {
      const rc = fn(fd, ...rest);
      if (rc !== Errno.EAGAIN || Number(fd) > 2) return rc;
      backoff.wait();
    }
  };
}

/**
 * Which guest fds 0-2 still name the host's stdio. They all do at the start; once the guest
 * closes or renumbers one, the backend's own idea of that fd is the truth (for @wasmer/wasi an
 * empty stdin or its output buffers, for node:wasi whatever it now holds there), so wasmloop
 * stops serving it. fd_close and fd_renumber are wrapped to keep this current.
 */
export class StdioFds {
  private readonly host: (number | undefined)[];
  /** Told each host fd that stops being served, before the backend may close it. */
  onRelease: (hostFd: number) => void = () => {};
  constructor(stdio: Stdio) {
    this.host = [stdio.stdin, stdio.stdout, stdio.stderr];
  }
  /** The host fd behind guest fd `fd`, or undefined when it is not (or no longer) host stdio. */
  hostFd(fd: number): number | undefined {
    return fd <= 2 ? this.host[fd] : undefined;
  }
  /** Wraps the backend's fd_close and fd_renumber (in place) to forget what they change. */
  track(functions: WasiFunctions): void {
    const { fd_close: fdClose, fd_renumber: fdRenumber } = functions;
    if (fdClose) {
      functions.fd_close = (fd) => {
        this.forget(fd);
        return fdClose(fd);
      };
    }
    if (fdRenumber) {
      functions.fd_renumber = (from, to) => {
        this.forget(from);
        this.forget(to);
        return fdRenumber(from, to);
      };
    }
  }
  private forget(fd: number | bigint): void {
    const n = Number(fd);
    const hostFd = n <= 2 ? this.host[n] : undefined;
    if (hostFd === undefined) return;
    this.host[n] = undefined;
    this.onRelease(hostFd);
  }
}

/** Functions that read their i32 arguments as u32 themselves (takesUnsigned). */
const readsUnsigned = new WeakSet<WasiFunction>();

/** Marks `fn` as reading every i32 argument as u32 itself (`>>> 0`), so withUnsignedArgs
 *  passes it through unwrapped: its rest-array wrapper allocates on every call, which the hot
 *  calls of a network program (poll_oneoff, sock_recv, sock_send) cannot afford. */
export function takesUnsigned<F extends WasiFunction>(fn: F): F {
  readsUnsigned.add(fn);
  return fn;
}

/**
 * Every i32 argument of a preview1 function is unsigned (fds, pointers, lengths, flags); wasm
 * hands it to JS as a signed number, so fd 0xFFFFFFFF arrives as -1, and node:wasi refuses
 * that with EINVAL where the spec's answer is EBADF. Each function gets its numbers as u32
 * (the one signed argument in preview1, fd_seek's offset, is an i64 and so a bigint, which is
 * passed on as it is, like every other i64).
 */
export function withUnsignedArgs(functions: WasiFunctions): WasiFunctions {
  const out: WasiFunctions = {};
  for (const [name, fn] of Object.entries(functions)) {
    if (readsUnsigned.has(fn)) {
      out[name] = fn;
      continue;
    }
    out[name] = (...args) => {
      for (let i = 0; i < args.length; i++)
        if (typeof args[i] === 'number') args[i] = (args[i] as number) >>> 0;
      return fn(...args);
    };
  }
  return out;
}
