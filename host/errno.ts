/**
 * WASI preview1 errno values: the numbering every wasmloop hostcall and every kernel call
 * uses for its negative returns. The names and their order are defined in host/abi.ts; the
 * native shim translates Linux errno into them in C (host/native/errno.h), so no Linux number
 * ever reaches the host or a guest.
 */
import { ERRNO_NAMES, type ErrnoName } from './abi.ts';

export type { ErrnoName } from './abi.ts';

/** WASI errno numbers by name, e.g. `Errno.EAGAIN === 6`. */
export const Errno = Object.freeze(
  Object.fromEntries(ERRNO_NAMES.map((name, value) => [name, value])) as Record<ErrnoName, number>,
);

/** The name of a WASI errno, given either sign (`-6` and `6` are both `EAGAIN`). */
export function errnoName(code: number): string {
  return ERRNO_NAMES[Math.abs(code)] ?? `E${Math.abs(code)}`;
}
