/**
 * What a WASI command gets preopened (host/command/command.ts): host directories (`--dir`), for
 * the backend to map, and listening sockets (`--tcplisten`, then `--listenfd`), which become the guest's fds 3, 4,
 * ... (host/command/fd-table.ts). docs/WASI.md says how each is numbered.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ListenAddress } from '../address.ts';
import { WasmloopError } from '../errors.ts';
import { holding, releasing } from './abort.ts';
import type { Fd } from '../kernel/contract.ts';
import { loadNative } from '../kernel/native.ts';
import { openAllListeners } from '../listeners.ts';
import type { ListenOptions } from '../types.ts';
import type { PreopenDir } from './command.ts';

/** Guest path -> absolute host path. ERR_WASMLOOP_DIR for a missing or doubled directory. */
export function resolveDirs(dirs: readonly PreopenDir[]): Record<string, string> {
  const preopens = new Map<string, string>();
  for (const dir of dirs) {
    const host = resolve(dir.host);
    let isDir: boolean;
    try {
      isDir = statSync(host).isDirectory();
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'no such directory'
          : (err as Error).message;
      throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: ${reason}`, { cause: err });
    }
    if (!isDir) throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: not a directory`);
    if (dir.guest === '')
      throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir ${dir.host}: empty guest path`);
    if (preopens.has(dir.guest))
      throw new WasmloopError('ERR_WASMLOOP_DIR', `--dir: guest path ${dir.guest} is given twice`);
    preopens.set(dir.guest, host);
  }
  // fromEntries, not assignment: a guest path such as "__proto__" stays an ordinary key.
  return Object.fromEntries(preopens);
}

/** Binds every address and adopts the `inherited` fds after them (ERR_WASMLOOP_LISTEN /
 *  _ADDRESS when one cannot be) and tells `onListening` where; none at all needs no native
 *  shim. The caller closes the fds. */
export async function openCommandListeners(
  list: ListenOptions[],
  inherited: readonly number[],
  onListening?: (addresses: ListenAddress[]) => void,
): Promise<Fd[]> {
  if (list.length === 0 && inherited.length === 0) return [];
  const opened = await openAllListeners(loadNative(), list, inherited as Fd[]);
  for (const fd of opened.fds) holding(fd);
  onListening?.(opened.addresses);
  return opened.fds;
}

export function closeListeners(fds: Fd[]): void {
  for (const fd of fds) {
    releasing(fd);
    loadNative().close(fd);
  }
}
