/**
 * `wasmloop run`'s reloads (host/cli-run.ts): SIGHUP, and with `--watch` a change of the module
 * file, replace the guest (WasmLoop.reload, docs/EMBEDDING.md) with the module file read again,
 * without dropping a connection. A failure (the file is not a guest, is half written, its
 * wl_init traps or runs away) is one line on stderr: the old guest serves on and the exit status
 * does not change. Reloads never overlap: one asked for while another runs follows it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readTlsFiles, setCertificate, type TlsFiles } from './tls.ts';
import type { WasmLoop } from './types.ts';

/** How long the file must stay unchanged before `--watch` reloads: a build writes it in bursts. */
const SETTLE_MS = 150;

/** Reloads `loop` from `path` on SIGHUP (and on changes with `watch`); returns what stops it. */
export function reloadOnRequest(loop: WasmLoop, path: string, watchFile: boolean): () => void {
  let running = false;
  let again: string | null = null;
  const reload = (why: string): void => {
    if (running) {
      again = why;
      return;
    }
    running = true;
    loop
      .reload(path)
      .then(
        () => process.stderr.write(`wasmloop: ${why}: reloaded ${path}\n`),
        (err: Error) =>
          process.stderr.write(`wasmloop: ${why}: ${err.message}; the old guest serves on\n`),
      )
      .finally(() => {
        running = false;
        const next = again;
        again = null;
        if (next !== null) reload(next);
      });
  };
  const onHangup = () => reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  const watcher = watchFile ? watchModule(path, () => reload(`${path} changed`)) : undefined;
  return () => {
    process.off('SIGHUP', onHangup);
    watcher?.close();
  };
}

/** Calls `changed` once `path` has stopped changing for SETTLE_MS. Its directory is watched,
 *  not the file: a build or an editor often replaces the file (a new inode) rather than
 *  writing it in place. */
function watchModule(path: string, changed: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(path);
  const watcher: FSWatcher = watch(dirname(path), (_event, file) => {
    if (file !== name) return;
    clearTimeout(timer);
    timer = setTimeout(changed, SETTLE_MS);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** SIGHUP also reads each TLS listener's `--tls-cert`/`--tls-key` (and SNI) files again and
 *  swaps them in (setCertificate: no connection dropped, every worker). A file that cannot be
 *  read or a pair that is unusable is one line on stderr; that listener's old certificates
 *  serve on. Returns what takes the handler off again. */
export function reloadCertificatesOnHangup(
  loop: WasmLoop,
  files: Record<number, TlsFiles>,
): () => void {
  const listeners = Object.entries(files);
  const onHangup = (): void => {
    for (const [at, f] of listeners) {
      try {
        setCertificate(loop, Number(at), readTlsFiles(f)!);
        process.stderr.write(`wasmloop: SIGHUP: reloaded the certificates of listener ${at}\n`);
      } catch (err) {
        const why = (err as Error).message;
        process.stderr.write(`wasmloop: SIGHUP: ${why}; the old certificates serve on\n`);
      }
    }
  };
  if (listeners.length > 0) process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
