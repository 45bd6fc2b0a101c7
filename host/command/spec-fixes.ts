/**
 * Small corrections to the backends' preview1 answers where the spec (or, where it is silent,
 * wasmtime) says otherwise and a program can tell (docs/WASI.md, "Differences from the spec"):
 *   clock_res_get, clock_time_get  a clock id the spec does not define is EINVAL; @wasmer/wasi
 *                                  traps (`unreachable`) on it
 *   fd_prestat_get, _dir_name      an fd that is not a preopened directory is EBADF, as under
 *                                  wasmtime (wasi-libc's preopen scan stops at EBADF); node:wasi
 *                                  answers EINVAL for stdio and for files it opened, and
 *                                  @wasmer/wasi succeeds on stdin
 * Applied to the backend's functions in its own fd numbers (backends.ts); fd_readdir's "." and
 * ".." are readdir.ts's.
 */
import { Errno } from '../errno.ts';
import type { StdioFds, WasiFunctions } from './stdio.ts';

/** clockid: realtime, monotonic, process_cputime_id, thread_cputime_id. */
const CLOCK_IDS = 4;

/** Wraps `functions` (in the backend's fd numbers) in place. */
export function applySpecFixes(functions: WasiFunctions, stdio: StdioFds): void {
  for (const name of ['clock_res_get', 'clock_time_get']) {
    const fn = functions[name];
    if (fn)
      functions[name] = (id, ...rest) => (Number(id) >= CLOCK_IDS ? Errno.EINVAL : fn(id, ...rest));
  }
  for (const name of ['fd_prestat_get', 'fd_prestat_dir_name']) {
    const fn = functions[name];
    if (fn) {
      functions[name] = (fd, ...rest) => {
        if (stdio.hostFd(Number(fd)) !== undefined) return Errno.EBADF; // stdio is no directory
        const rc = fn(fd, ...rest);
        return rc === Errno.EINVAL ? Errno.EBADF : rc;
      };
    }
  }
}
