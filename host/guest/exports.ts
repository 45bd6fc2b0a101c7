/**
 * The guest's side of the ABI as the host sees it (docs/ABI.md): the exports it calls, the
 * counters it reads from guest memory, the interest bits a guest may ask for.
 */
import type { SalvageExports } from './salvage.ts';
import { EPOLLET, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../kernel/contract.ts';

/** Interest bits a guest may ask for (docs/ABI.md, watch). */
export const ALLOWED_EVENTS = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

export interface GuestExports extends Partial<SalvageExports> {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  wl_init(): number;
  wl_events_ptr(): number;
  wl_events_cap(): number;
  wl_dispatch(n: number, nowMs: number): number;
  wl_shutdown(): void;
  wl_stats_ptr(): number;
}

/** Counters a guest keeps in its memory (docs/ABI.md, wl_stats_ptr), in that order. */
export const STAT_NAMES = ['accepted', 'closed', 'open', 'requests', 'bytesIn', 'bytesOut', 'acceptErrors', 'protocolErrors', 'buffersInUse', 'timeouts'] as const;
export type GuestStats = Record<(typeof STAT_NAMES)[number], number>;

