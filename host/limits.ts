/**
 * Limits: named numbers the host passes to guests through the `limit` hostcall (docs/ABI.md),
 * set with `-W name=value` on the CLI or `limits: { name: value }` in createLoop. Each guest
 * reads the names it understands at start-up and keeps its own default for the others. The
 * host knows the names every shipped guest reads, so a typo is an error, not a silent no-op.
 */
import { WasmloopError } from './errors.ts';

/** Every limit a shipped guest or the core reads, with its default and meaning. */
export const KNOWN_LIMITS: Record<string, { default: number; help: string }> = {
  'max-memory-size': { default: 256 * 1024 * 1024, help: 'guest memory in bytes; growing past it fails' },
  'max-table-elements': { default: 65536, help: 'guest table elements, all tables together; growing past it fails' },
  'max-connections': { default: 16384, help: 'connections open at once per loop (per worker); the host refuses accept past it' },
  'idle-timeout-ms': { default: 60000, help: 'close a connection making no progress this long (0: never)' },
  'header-timeout-ms': { default: 10000, help: 'HTTP: time to receive a whole request head (slowloris)' },
  'keepalive-timeout-ms': { default: 5000, help: 'HTTP: close a keep-alive connection idle this long' },
  'body-timeout-ms': { default: 20000, help: 'HTTP: time for a request body to arrive, extended by body-min-rate (0: none)' },
  'body-min-rate': { default: 500, help: 'HTTP: each this many body bytes received add 1 s to body-timeout-ms (0: none)' },
  'max-header-bytes': { default: 16384, help: 'HTTP SDK: request head size; over it 431 (414 in the target)' },
  'max-target-bytes': { default: 8192, help: 'HTTP SDK: request target size; over it 414' },
  'max-headers': { default: 100, help: 'HTTP SDK: header fields in a request; over it 431' },
  'max-frame-bytes': { default: 1048576, help: 'frame: largest payload; a longer length is a protocol error' },
  'max-body-bytes': { default: 1073741824, help: 'HTTP SDK: request body size; over it 413' },
  'max-traps-per-peer-minute': { default: 10, help: 'host: traps one peer (IPv4, IPv6 /64) may cause a minute (0: off)' },
  'peer-block-ms': { default: 60000, help: 'host: how long a peer past it has its connections refused' },
};

export type Limits = Record<string, number>;

/** Checks names and values: throws ERR_WASMLOOP_LIMIT for an unknown name or a value that is
 *  not a finite number >= 0. */
export function checkLimits(limits: Limits): Limits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Object.hasOwn(KNOWN_LIMITS, name)) { // not `in`: 'constructor' is no limit
      throw new WasmloopError('ERR_WASMLOOP_LIMIT', `unknown limit '${name}' (known: ${Object.keys(KNOWN_LIMITS).join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new WasmloopError('ERR_WASMLOOP_LIMIT', `limit '${name}' must be a number >= 0, not ${String(value)}`);
    }
  }
  return limits;
}

/** The limits a guest sees: the caller's, plus the host-enforced ones at their defaults, so
 *  the guest plans with the same numbers the host enforces. */
export function effectiveLimits(limits: Limits): Limits {
  return {
    'max-memory-size': KNOWN_LIMITS['max-memory-size']!.default,
    'max-table-elements': KNOWN_LIMITS['max-table-elements']!.default,
    ...limits,
  };
}

/** Parses one `name=value` as `-W` takes it. */
export function parseLimit(text: string): [string, number] {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : '';
  const raw = eq > 0 ? text.slice(eq + 1) : '';
  if (name === '' || !/^\d+(\.\d+)?$/.test(raw)) {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `-W needs name=value with a number, not '${text}' (see wasmloop --help)`);
  }
  const value = Number(raw);
  checkLimits({ [name]: value });
  return [name, value];
}

/** The most connections one instance may hold (assembly/loop.ts MAX_CONNS_LIMIT). */
export const MAX_CONNECTIONS_LIMIT = 1048576;

/** max-connections as the guest core reads it (at least 1, at most MAX_CONNECTIONS_LIMIT), the
 *  number the host holds every instance to (host/guest/handles.ts) and sizes the worker registry by. */
export function connectionLimit(limits: Readonly<Record<string, number>>): number {
  const value = Object.hasOwn(limits, 'max-connections') ? limits['max-connections']! : KNOWN_LIMITS['max-connections']!.default;
  return Number.isFinite(value) ? Math.min(Math.max(Math.trunc(value), 1), MAX_CONNECTIONS_LIMIT) : KNOWN_LIMITS['max-connections']!.default;
}
