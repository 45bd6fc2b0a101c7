/**
 * The guest's side of the ABI as the host sees it (docs/ABI.md): the exports it calls, the
 * counters it reads from guest memory, the interest bits a guest may ask for.
 */
import type { SalvageExports } from './salvage.ts';
import { STAT_NAMES, type StatName } from '../abi.ts';

export { ALLOWED_EVENTS, STAT_NAMES } from '../abi.ts';

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

/** The counters a guest keeps in its memory (docs/ABI.md, wl_stats_ptr; names: host/abi.ts). */
export type GuestStats = Record<StatName, number>;

/** Every counter at 0. */
export function zeroStats(): GuestStats {
  return Object.fromEntries(STAT_NAMES.map((k) => [k, 0])) as GuestStats;
}
