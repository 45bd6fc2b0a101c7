/**
 * A kernel as its own tests see it: every fd a plain number. The host's code is held to the
 * `Fd` brand (host/kernel/contract.ts), so that it cannot pass a guest's handle where an fd
 * belongs; a test of the kernel itself passes closed, foreign and invalid numbers on purpose.
 */
import type { Fd } from '../../host/kernel/contract.ts';

type Plain<T> = T extends Fd ? number : T;
type PlainArgs<A extends unknown[]> = { [I in keyof A]: Plain<A[I]> };

export type RawKernel<K> = {
  [M in keyof K]: K[M] extends (...args: infer A) => infer R
    ? (...args: PlainArgs<A>) => Plain<R>
    : K[M];
};

/** The same object, typed with plain-number fds. */
export function raw<K>(kernel: K): RawKernel<K> {
  return kernel as unknown as RawKernel<K>;
}

/** `fds` written into the kernel's descriptor array (contract.ts ioDescriptors), record by
 *  record, as the host does right before recvMany/sendMany; returns `k` for the call. */
export function withDescriptors<K extends { ioDescriptors: Int32Array }>(k: K, fds: number[]): K {
  k.ioDescriptors.set(fds);
  return k;
}
