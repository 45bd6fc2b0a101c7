/**
 * Opening the listening sockets a loop hands to its guests. The caller owns the fds and
 * closes them.
 */
import { checkPort, formatAddress, resolveHost, type ListenAddress } from './address.ts';
import { errnoName } from './errno.ts';
import { WasmloopError } from './errors.ts';
import type { Fd, Kernel } from './kernel/contract.ts';
import type { NativeKernel } from './kernel/native.ts';
import type { ListenOptions } from './types.ts';

/** Backlog of each listening socket: the kernel's usual cap (somaxconn). */
const DEFAULT_BACKLOG = 4096;

export interface OpenListeners {
  fds: Fd[];
  addresses: ListenAddress[];
}

/** Every listener of a loop or a command: `list` bound, then the `inherited` fds adopted, in
 *  that order. The inherited fds are handed over: on any failure they are closed too, with
 *  whatever was bound. ERR_WASMLOOP_ADDRESS when there is none at all. */
export async function openAllListeners(
  native: NativeKernel,
  list: ListenOptions[],
  inherited: readonly Fd[],
  reusePort = false,
): Promise<OpenListeners> {
  if (list.length === 0 && inherited.length > 0) return adoptListeners(native, inherited);
  let bound: OpenListeners | undefined;
  try {
    bound = await openListeners(native, list, reusePort);
    const adopted = adoptListeners(native, inherited);
    return {
      fds: [...bound.fds, ...adopted.fds],
      addresses: [...bound.addresses, ...adopted.addresses],
    };
  } catch (err) {
    if (bound === undefined) for (const fd of inherited) native.close(fd);
    else for (const fd of bound.fds) native.close(fd);
    throw err;
  }
}

/** Takes over listening sockets opened elsewhere (inherited: host/listen-fds.ts), each checked
 *  to be a listening TCP socket and made non-blocking and close-on-exec: a supervisor may pass
 *  anything. On a failure every one of them is closed and ERR_WASMLOOP_LISTEN names the fd. */
export function adoptListeners(native: NativeKernel, fds: readonly Fd[]): OpenListeners {
  const out: OpenListeners = { fds: [...fds], addresses: [] };
  try {
    for (const fd of fds) {
      const checked = native.adoptListener(fd);
      const addr = checked < 0 ? checked : native.localAddress(fd);
      if (typeof addr === 'number') {
        throw new WasmloopError(
          'ERR_WASMLOOP_LISTEN',
          `fd ${fd} is not a listening TCP socket: ${errnoName(addr)}`,
        );
      }
      out.addresses.push({ host: addr.host, port: addr.port });
    }
  } catch (err) {
    for (const fd of fds) native.close(fd);
    throw err;
  }
  return out;
}

/** Binds every address (names resolved, port 0 replaced by the port the kernel chose). On any
 *  failure the ones already open are closed and ERR_WASMLOOP_LISTEN / _ADDRESS is thrown. */
export async function openListeners(
  kernel: Kernel,
  list: ListenOptions[],
  reusePort = false,
): Promise<OpenListeners> {
  if (!Array.isArray(list) || list.length === 0) {
    throw new WasmloopError('ERR_WASMLOOP_ADDRESS', 'at least one listen address is needed');
  }
  const out: OpenListeners = { fds: [], addresses: [] };
  try {
    for (const l of list) {
      checkPort(l.port, String(l.port));
      const host = await resolveHost(l.host ?? '127.0.0.1');
      const fd = kernel.listen(
        host,
        l.port,
        l.backlog ?? DEFAULT_BACKLOG,
        reusePort || (l.reusePort ?? false),
      );
      if (fd < 0) {
        throw new WasmloopError(
          'ERR_WASMLOOP_LISTEN',
          `cannot listen on ${formatAddress({ host, port: l.port })}: ${errnoName(fd)}`,
        );
      }
      out.fds.push(fd);
      const addr = kernel.localAddress(fd);
      out.addresses.push(
        typeof addr === 'number' ? { host, port: l.port } : { host: addr.host, port: addr.port },
      );
    }
  } catch (err) {
    for (const fd of out.fds) kernel.close(fd);
    throw err;
  }
  return out;
}

/** Binds more sockets to addresses already open (same ports), with SO_REUSEPORT, so another
 *  thread's loop can accept from its own queue. */
export async function openSiblings(
  kernel: Kernel,
  addresses: ListenAddress[],
  backlog?: number,
): Promise<Fd[]> {
  if (addresses.length === 0) return [];
  return (
    await openListeners(
      kernel,
      addresses.map((a) => ({ host: a.host, port: a.port, backlog })),
      true,
    )
  ).fds;
}
