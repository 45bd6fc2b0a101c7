/**
 * The guest's side of the ABI as the host sees it (docs/ABI.md): the exports it calls, the
 * counters it reads from guest memory, the interest bits a guest may ask for.
 */
import type { SalvageExports } from './salvage.ts';
import { STAT_NAMES, type StatName } from '../abi.ts';
import { WasmloopError } from '../errors.ts';
import { EVENT_SIZE, MAX_EVENTS } from '../kernel/contract.ts';

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

/** Where a guest keeps its event ring and counters, as it told us after wl_init. */
export interface GuestLayout {
  eventsPtr: number;
  eventsCap: number;
  statsPtr: number;
}

/** Reads the guest's layout; ERR_WASMLOOP_ABI when the ring or the counters do not fit in its
 *  memory, or the ring is larger than the host ever fills. */
export function guestLayout(exports: GuestExports): GuestLayout {
  const eventsPtr = exports.wl_events_ptr() >>> 0;
  const eventsCap = exports.wl_events_cap() | 0;
  const statsPtr = exports.wl_stats_ptr() >>> 0;
  const size = exports.memory.buffer.byteLength;
  if (eventsCap < 1 || eventsPtr + eventsCap * EVENT_SIZE > size) {
    throw new WasmloopError(
      'ERR_WASMLOOP_ABI',
      `guest event ring (${eventsCap} events at ${eventsPtr}) does not fit in its memory`,
    );
  }
  if (eventsCap > MAX_EVENTS) {
    throw new WasmloopError(
      'ERR_WASMLOOP_ABI',
      `guest event ring holds ${eventsCap} events; this host waits for at most ${MAX_EVENTS} at a time`,
    );
  }
  if (statsPtr + STAT_NAMES.length * 8 > size) {
    throw new WasmloopError('ERR_WASMLOOP_ABI', 'guest stats region does not fit in its memory');
  }
  return { eventsPtr, eventsCap, statsPtr };
}

/** The guest's counters, read straight from its memory at `statsPtr`. */
export function readStats(memory: ArrayBuffer, statsPtr: number): GuestStats {
  const view = new DataView(memory);
  const out = {} as GuestStats;
  STAT_NAMES.forEach((name, i) => {
    out[name] = Number(view.getBigUint64(statsPtr + i * 8, true));
  });
  return out;
}
