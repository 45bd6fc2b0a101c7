/**
 * Opening the listening sockets a loop hands to its guests. The caller owns the fds and
 * closes them.
 */
import { checkPort, formatAddress, resolveHost, type ListenAddress } from './address.ts';
import { errnoName } from './errno.ts';
import { WasmloopError } from './errors.ts';
import type { Fd, Kernel } from './kernel/contract.ts';
import type { ListenOptions } from './types.ts';

/** Backlog of each listening socket: the kernel's usual cap (somaxconn). */
const DEFAULT_BACKLOG = 4096;

export interface OpenListeners {
  fds: Fd[];
  addresses: ListenAddress[];
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
  return (
    await openListeners(
      kernel,
      addresses.map((a) => ({ host: a.host, port: a.port, backlog })),
      true,
    )
  ).fds;
}
