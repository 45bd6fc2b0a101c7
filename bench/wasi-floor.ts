/**
 * The floor under `wasmloop run` for the WASI C echo (docs/PERFORMANCE.md, "WASI commands, third
 * round"): examples/c-echo/echo.wasm served by the least host that can run it over the same
 * native shim, with nothing else of wasmloop's. Its poll_oneoff is one epoll_wait (every fd
 * registered once, at accept) whose events are matched to the subscriptions; sock_recv and
 * sock_send are one shim recv/send each straight into the guest's first iovec. No fd table
 * beyond an array, no bounds checks beyond the shim's, no clocks, no FD_WRITE readiness (always
 * ready), no nbytes: what the program would cost if wasmloop were only wasm -> JS -> N-API ->
 * syscall. `--read-ahead` adds what wasmloop's nbytes costs: poll_oneoff recv's each readable
 * connection into a host buffer, and sock_recv copies from it.
 *
 *   node --import tsx bench/wasi-floor.ts PORT [--read-ahead]
 *
 * Measured side by side with the native build and `wasmloop run` by the same load (server CPU
 * per message); not part of `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { EPOLL_CTL_ADD, EPOLLIN, EVENT_SIZE, type Fd } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';

const EAGAIN = 6;
const ESPIPE = 70;
const LISTENER = 3;
const MAX_WAIT = 1024;

const port = Number(process.argv[2]);
const readAheadMode = process.argv.includes('--read-ahead');
const kernel = loadNative();
const hostFd = new Int32Array(4096).fill(-1); // guest fd -> host fd
hostFd[LISTENER] = kernel.listen('127.0.0.1', port, 511, false);
const epfd = kernel.epollCreate();
const records = new ArrayBuffer(MAX_WAIT * EVENT_SIZE);
const recordView = new DataView(records);
const readyIn = new Uint32Array(4096); // guest fd -> the wait that found it readable
let wait = 0;
let nextFd = LISTENER + 1;
/** --read-ahead: each guest fd's bytes taken in poll_oneoff, not yet given to sock_recv (its
 *  ArrayBuffer and a DataView kept, as host/command/socket-io.ts keeps them). */
const aheadBuffer = Array.from({ length: 4096 }, () => new ArrayBuffer(4096));
const aheadView = aheadBuffer.map((b) => new DataView(b));
const aheadLength = new Int32Array(4096);
kernel.epollCtl(epfd, EPOLL_CTL_ADD, hostFd[LISTENER] as Fd, EPOLLIN, LISTENER, 0);

let instance: WebAssembly.Instance;
let buffer = new ArrayBuffer(0);
let view = new DataView(buffer);
let bytes = new Uint8Array(buffer);
function memory(): ArrayBuffer {
  if (buffer.byteLength === 0) {
    buffer = (instance.exports.memory as WebAssembly.Memory).buffer;
    view = new DataView(buffer);
    bytes = new Uint8Array(buffer);
  }
  return buffer;
}

/** One epoll_wait; marks each readable guest fd (and reads it ahead with --read-ahead). */
function collect(): void {
  wait++;
  const n = kernel.epollWait(epfd, records, 0, MAX_WAIT, -1);
  for (let i = 0; i < n; i++) {
    const fd = recordView.getUint32(i * EVENT_SIZE + 4, true);
    readyIn[fd] = wait;
    if (readAheadMode && fd !== LISTENER && aheadLength[fd] === 0) {
      const got = kernel.recv(hostFd[fd] as Fd, aheadBuffer[fd]!, 0, 4096);
      aheadLength[fd] = got > 0 ? got : 0;
    }
  }
}

function pollOneoff(inPtr: number, outPtr: number, count: number, neventsPtr: number): number {
  memory();
  let fired = 0;
  while (fired === 0) {
    collect();
    for (let i = 0; i < count; i++) {
      const at = inPtr + i * 48;
      const type = view.getUint8(at + 8);
      const fd = view.getUint32(at + 16, true);
      if (type === 1 && readyIn[fd] !== wait && aheadLength[fd] === 0) continue;
      const out = outPtr + fired++ * 32;
      view.setUint32(out, view.getUint32(at, true), true);
      view.setUint32(out + 4, view.getUint32(at + 4, true), true);
      view.setUint32(out + 8, type << 16, true);
      for (let b = 12; b < 32; b += 4) view.setUint32(out + b, 0, true);
    }
  }
  view.setUint32(neventsPtr, fired, true);
  return 0;
}

function sockAccept(fd: number, _flags: number, resultPtr: number): number {
  const accepted = kernel.accept(hostFd[fd] as Fd);
  if (accepted < 0) return EAGAIN;
  const guestFd = nextFd++;
  hostFd[guestFd] = accepted;
  kernel.epollCtl(epfd, EPOLL_CTL_ADD, accepted, EPOLLIN, guestFd, 0);
  memory();
  view.setUint32(resultPtr, guestFd, true);
  return 0;
}

function sockRecv(fd: number, iovs: number, _n: number, _f: number, nreadPtr: number): number {
  memory();
  const ptr = view.getUint32(iovs, true);
  const len = view.getUint32(iovs + 4, true);
  let got: number;
  if (readAheadMode && aheadLength[fd]! > 0) {
    got = Math.min(aheadLength[fd]!, len); // the echo's buffer (64 KiB) takes it all
    copyAhead(aheadView[fd]!, ptr, got);
    aheadLength[fd] = 0;
  } else {
    got = kernel.recv(hostFd[fd] as Fd, buffer, ptr, len);
    if (got < 0) return -got;
  }
  view.setUint32(nreadPtr, got, true);
  return 0;
}

/** As memview.ts copyBytes for a small message: by 4-byte words, allocating nothing. */
function copyAhead(from: DataView, to: number, len: number): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) view.setUint32(to + i, from.getUint32(i, true), true);
  for (; i < len; i++) view.setUint8(to + i, from.getUint8(i));
}

function sockSend(fd: number, iovs: number, _n: number, _f: number, nwrittenPtr: number): number {
  memory();
  const sent = kernel.send(
    hostFd[fd] as Fd,
    buffer,
    view.getUint32(iovs, true),
    view.getUint32(iovs + 4, true),
  );
  if (sent < 0) return -sent;
  view.setUint32(nwrittenPtr, sent, true);
  return 0;
}

/** Output is dropped (the echo writes only on errors); all of it counts as written. */
function fdWrite(_fd: number, iovs: number, count: number, nwrittenPtr: number): number {
  memory();
  let total = 0;
  for (let i = 0; i < count; i++) total += view.getUint32(iovs + i * 8 + 4, true);
  view.setUint32(nwrittenPtr, total, true);
  return 0;
}

function fdClose(fd: number): number {
  kernel.close(hostFd[fd] as Fd); // also leaves the epoll set
  hostFd[fd] = -1;
  aheadLength[fd] = 0;
  return 0;
}

const wasi = {
  args_sizes_get: (argc: number, size: number) => (
    memory(),
    view.setUint32(argc, 0, true),
    view.setUint32(size, 0, true),
    0
  ),
  args_get: () => 0,
  fd_fdstat_get: (_fd: number, at: number) => (
    memory(),
    bytes.fill(0, at, at + 24),
    view.setUint8(at, 6),
    0
  ),
  fd_fdstat_set_flags: () => 0,
  fd_seek: () => ESPIPE,
  fd_write: fdWrite,
  fd_close: fdClose,
  proc_exit: (code: number) => process.exit(code),
  poll_oneoff: pollOneoff,
  sock_accept: sockAccept,
  sock_recv: sockRecv,
  sock_send: sockSend,
};
const module = new WebAssembly.Module(
  readFileSync(new URL('../examples/c-echo/echo.wasm', import.meta.url)),
);
instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi });
(instance.exports._start as () => void)();
