/**
 * Compile-time only (never run): the host's handle table, instance and kernel contract refuse
 * to mix a guest's handles with fds. Each `@ts-expect-error` line must be an error; if a brand
 * is lost (say `type Fd = number`), the directive is unused and `tsc` fails on this file.
 * Checked by `tsc --noEmit` (npm test) and by test/brands.test.ts.
 */
import type { Fd, Kernel } from '../../host/kernel/contract.ts';
import { HandleTable, Kind, type Handle } from '../../host/guest/handles.ts';
import type { Handover } from '../../host/guest/salvage.ts';

export function mixing(kernel: Kernel, table: HandleTable, handle: Handle, fd: Fd): void {
  // The sound path: a handle is looked up, its fd goes to the kernel.
  kernel.close(table.fd(handle, Kind.Conn));
  table.add(kernel.accept(fd), Kind.Conn);

  // @ts-expect-error a handle is not an fd
  kernel.close(handle);
  // @ts-expect-error a handle is not an fd
  kernel.recv(handle, new ArrayBuffer(8), 0, 8);
  // @ts-expect-error an fd is not a handle
  table.fd(fd, Kind.Conn);
  // @ts-expect-error a handle is not an fd: the table maps fds
  table.add(handle, Kind.Conn);
  // @ts-expect-error a plain number is neither: the guest's words become handles explicitly
  table.indexOf(7);
  // @ts-expect-error a plain number is not an fd
  kernel.close(3);
  // @ts-expect-error a connection on its way to the next instance holds its fd, not a handle
  const lost: Handover = { fd: handle, input: null, linger: false };
  void lost;
}
