/**
 * A WASI command's descriptor numbers (docs/WASI.md, "Sockets"): each guest fd names either a
 * descriptor of the WASI backend or one of wasmloop's sockets. Guest fds 0-2 are the backend's
 * 0-2, the preopened listeners come next (3, 4, ...) and then the backend's preopened
 * directories, shifted past them (wasmtime's order). The module only ever sees guest fds: a
 * socket's host fd never reaches it, and a backend fd only under its guest number.
 *
 * Every backend function that takes a descriptor is wrapped to translate it (`wrapBackend`);
 * a descriptor the table does not hold is EBADF before the backend is asked. Without sockets
 * the numbering is the identity: a descriptor the backend opens keeps its own number whenever
 * that guest fd is free, which, with no socket to take it, it always is.
 */
import { Errno } from '../errno.ts';
import type { Socket } from './socket-io.ts';
import type { WasiFunction, WasiFunctions } from './stdio.ts';

export type FdEntry =
  { socket: Socket; backend?: undefined } | { backend: number; socket?: undefined };

/** path_open's result pointer: the new descriptor is written there. */
const PATH_OPEN_RESULT = 8;

/** The argument positions that are descriptors, for a backend function. */
function fdPositions(name: string): number[] {
  if (name === 'path_link') return [0, 4];
  if (name === 'path_rename') return [0, 3];
  return name.startsWith('fd_') || name.startsWith('path_') ? [0] : [];
}

export class FdTable {
  private readonly entries = new Map<number, FdEntry>();
  /** Changes with every change to the table (an fd opened, closed, moved or renumbered), so a
   *  caller can tell that what it learnt from the table still holds (poll_oneoff's fast path). */
  version = 0;

  /** `backendPreopens`: how many directories the backend preopened at its fds 3, 4, ... */
  constructor(listeners: readonly Socket[], backendPreopens: number) {
    for (let fd = 0; fd < 3; fd++) this.entries.set(fd, { backend: fd });
    listeners.forEach((socket, i) => this.entries.set(3 + i, { socket }));
    for (let i = 0; i < backendPreopens; i++)
      this.entries.set(3 + listeners.length + i, { backend: 3 + i });
  }

  get(fd: number): FdEntry | undefined {
    return this.entries.get(fd);
  }

  set(fd: number, entry: FdEntry): void {
    this.version++;
    this.entries.set(fd, entry);
  }

  delete(fd: number): void {
    this.version++;
    this.entries.delete(fd);
  }

  /** The backend closed (or moved) its descriptor behind guest fd `fd`. An identity entry
   *  stays: the backend is then the judge of that number (@wasmer/wasi, for one, keeps its
   *  stdio after fd_close), exactly as without the table. */
  closedBackend(fd: number): void {
    this.version++; // even an identity entry kept: the backend's answer for it may differ now
    if (this.entries.get(fd)?.backend !== fd) this.entries.delete(fd);
  }

  /** Gives `entry` a guest fd: `wanted` when it is free (or already names the same backend
   *  fd), else the lowest free one from 3. */
  add(entry: FdEntry, wanted = -1): number {
    const current = this.entries.get(wanted);
    const free =
      current === undefined || (entry.backend !== undefined && current.backend === entry.backend);
    let fd = wanted;
    if (wanted < 3 || !free) {
      fd = 3;
      while (this.entries.has(fd)) fd++;
    }
    this.set(fd, entry);
    return fd;
  }

  sockets(): Socket[] {
    return [...this.entries.values()].flatMap((e) => (e.socket ? [e.socket] : []));
  }
}

/** What a call that names a socket is answered with, when it is not the socket layer's. */
export type OnSocket = (
  name: string,
  socket: Socket,
  fd: number,
  args: (number | bigint)[],
) => unknown;

/** `fn` (a backend function) over guest fds: each descriptor argument translated, a socket
 *  handed to `onSocket`, a descriptor the table lacks EBADF; path_open's new descriptor is
 *  given a guest number, and fd_close's is freed. */
export function wrapBackend(
  name: string,
  fn: WasiFunction,
  table: FdTable,
  memory: () => ArrayBuffer,
  onSocket: OnSocket,
): WasiFunction {
  const positions = fdPositions(name);
  if (positions.length === 0) return fn;
  return (...args) => {
    const guestFd = Number(args[0]);
    for (const at of positions) {
      const entry = table.get(Number(args[at]));
      if (entry === undefined) return Errno.EBADF;
      if (entry.socket)
        return at === 0 ? onSocket(name, entry.socket, guestFd, args) : Errno.ENOTDIR;
      args[at] = entry.backend;
    }
    const rc = fn(...args);
    if (rc !== Errno.ESUCCESS) return rc;
    if (name === 'fd_close') table.closedBackend(guestFd);
    if (name === 'path_open') renumberOpened(table, memory(), Number(args[PATH_OPEN_RESULT]));
    return rc;
  };
}

/** The backend wrote its new fd at `at`: the guest gets its own number for it there. */
function renumberOpened(table: FdTable, memory: ArrayBuffer, at: number): void {
  const view = new DataView(memory);
  const backendFd = view.getUint32(at, true);
  view.setUint32(at, table.add({ backend: backendFd }, backendFd), true);
}

/**
 * fd_renumber(from, to) over guest fds: `to` is closed and `from`'s descriptor takes its number.
 * Both must be open (EBADF otherwise, as uvwasi answers). Two backend fds are the backend's to
 * move; a socket on either side is moved in the table, `closeSocket`/`closeBackend` closing
 * what `to` held.
 */
export function renumber(
  table: FdTable,
  backendRenumber: WasiFunction | undefined,
  close: { socket(s: Socket): void; backend(fd: number): unknown },
): WasiFunction {
  return (fromArg, toArg) => {
    const [from, to] = [Number(fromArg), Number(toArg)];
    const source = table.get(from);
    const target = table.get(to);
    if (source === undefined || target === undefined) return Errno.EBADF;
    if (from === to) return Errno.ESUCCESS;
    if (source.backend !== undefined && target.backend !== undefined) {
      const rc = backendRenumber?.(source.backend, target.backend) ?? Errno.ENOSYS;
      if (rc === Errno.ESUCCESS) table.closedBackend(from);
      return rc;
    }
    if (target.socket) close.socket(target.socket);
    else close.backend(target.backend);
    table.set(to, source);
    table.delete(from);
    return Errno.ESUCCESS;
  };
}

/** Every backend function over guest fds, fd_renumber included. */
export function guestFunctions(
  backend: WasiFunctions,
  table: FdTable,
  memory: () => ArrayBuffer,
  onSocket: OnSocket,
  closeSocket: (s: Socket) => void,
): WasiFunctions {
  const out: WasiFunctions = {};
  for (const [name, fn] of Object.entries(backend))
    out[name] = wrapBackend(name, fn, table, memory, onSocket);
  out.fd_renumber = renumber(table, backend.fd_renumber, {
    socket: closeSocket,
    backend: (fd) => backend.fd_close?.(fd),
  });
  return out;
}
