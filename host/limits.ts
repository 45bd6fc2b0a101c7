/**
 * Limits: named numbers the host passes to guests through the `limit` hostcall (docs/ABI.md),
 * set with `-W name=value` on the CLI or `limits: { name: value }` in createLoop. The host knows
 * only its own limits and the core's (HOST_LIMITS); a guest declares the ones it reads in the
 * custom section `wasmloop.limits` (docs/ABI.md, "Limits"), and the host checks names and
 * ranges against that declaration and hands the guest the declared defaults, so a typo is an
 * error, not a silent no-op, and the host holds no protocol's numbers.
 */
import { MAX_SLOTS } from './abi.ts';
import { WasmloopError } from './errors.ts';

/** One limit: its default, the range the host accepts, and one line of help. */
export interface LimitSpec {
  default: number;
  min: number;
  max: number;
  help: string;
}

const ANY = { min: 0, max: Number.MAX_SAFE_INTEGER };

/** The limits the host enforces itself, and the core's (assembly/loop.ts), which every guest
 *  built on it reads: accepted for every module, whatever it declares. */
export const HOST_LIMITS: Record<string, LimitSpec> = {
  'max-memory-size': {
    default: 256 * 1024 * 1024,
    ...ANY,
    help: 'guest memory in bytes; growing past it fails',
  },
  'max-table-elements': {
    default: 65536,
    ...ANY,
    help: 'guest table elements, all tables together; growing past it fails',
  },
  'max-connections': {
    default: 16384,
    ...ANY,
    help: 'connections open at once per loop (per worker); the host refuses accept past it',
  },
  'idle-timeout-ms': {
    default: 60000,
    ...ANY,
    help: 'close a connection making no progress this long (0: never)',
  },
  'max-traps-per-peer-minute': {
    default: 10,
    ...ANY,
    help: 'host: traps one peer (IPv4, IPv6 /64) may cause a minute (0: off)',
  },
  'peer-block-ms': {
    default: 60000,
    ...ANY,
    help: 'host: how long a peer past it has its connections refused',
  },
  'tls-handshake-timeout-ms': {
    default: 10000,
    min: 1,
    max: 2 ** 31 - 1,
    help: 'host: a TLS handshake not done in this long is closed',
  },
  'tls-max-handshakes': {
    default: 1024,
    min: 1,
    max: 1 << 20,
    help: 'host: TLS handshakes in flight per loop (per worker); more are closed at accept',
  },
};

/** @deprecated the host's limits; a guest's own come from its declaration (limitsOf). */
export const KNOWN_LIMITS = HOST_LIMITS;

/** Names a guest that declares nothing may still be given (backward compatible: the names the
 *  shipped guests read before guests declared their limits). Values are passed through. */
export const UNDECLARED_GUEST_LIMITS: readonly string[] = [
  'header-timeout-ms',
  'keepalive-timeout-ms',
  'body-timeout-ms',
  'body-min-rate',
  'max-header-bytes',
  'max-target-bytes',
  'max-headers',
  'max-frame-bytes',
  'max-body-bytes',
];

export type Limits = Record<string, number>;

/** The name of the custom section holding a guest's limit declaration. */
export const LIMITS_SECTION = 'wasmloop.limits';

/** The limits `module` declares (empty when it declares none), or undefined when it has no
 *  declaration at all. Read without running guest code; a malformed one is ERR_WASMLOOP_ABI. */
export function declaredLimits(module: WebAssembly.Module): Record<string, LimitSpec> | undefined {
  const sections = WebAssembly.Module.customSections(module, LIMITS_SECTION);
  if (sections.length === 0) return undefined;
  if (sections.length > 1) throw badDeclaration(`more than one ${LIMITS_SECTION} section`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(sections[0]!));
  } catch {
    throw badDeclaration('not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badDeclaration('not an object');
  const out: Record<string, LimitSpec> = {};
  for (const [name, spec] of Object.entries(parsed)) out[name] = checkSpec(name, spec);
  return out;
}

function badDeclaration(why: string): WasmloopError {
  return new WasmloopError(
    'ERR_WASMLOOP_ABI',
    `guest limit declaration (${LIMITS_SECTION}): ${why}`,
  );
}

/** One declared limit: a new name, numbers with min <= default <= max, a string of help. */
function checkSpec(name: string, spec: unknown): LimitSpec {
  if (Object.hasOwn(HOST_LIMITS, name)) throw badDeclaration(`'${name}' is the host's limit`);
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(name)) throw badDeclaration(`bad name '${name.slice(0, 64)}'`);
  const s = (typeof spec === 'object' && spec !== null ? spec : {}) as Record<string, unknown>;
  const [d, min, max] = [s['default'], s['min'] ?? 0, s['max'] ?? Number.MAX_SAFE_INTEGER];
  const numbers = [d, min, max].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  if (
    !numbers ||
    !((min as number) <= (d as number) && (d as number) <= (max as number)) ||
    typeof s['help'] !== 'string'
  ) {
    throw badDeclaration(`'${name}' needs numbers min <= default <= max (>= 0) and a help string`);
  }
  return { default: d as number, min: min as number, max: max as number, help: s['help'] };
}

/** The limits `module` takes, with their specs: the host's and its declared ones; for a module
 *  that declares nothing, the host's (UNDECLARED_GUEST_LIMITS are accepted without a spec). */
export function limitsOf(module?: WebAssembly.Module): {
  specs: Record<string, LimitSpec>;
  declares: boolean;
} {
  const declared = module === undefined ? undefined : declaredLimits(module);
  return { specs: { ...HOST_LIMITS, ...declared }, declares: declared !== undefined };
}

/** Checks names and values against what `module` takes (without a module: the host's limits
 *  and UNDECLARED_GUEST_LIMITS). Throws ERR_WASMLOOP_LIMIT for an unknown name, a value that
 *  is not a finite number >= 0, or one outside its declared range. */
export function checkLimits(limits: Limits, module?: WebAssembly.Module): Limits {
  const { specs, declares } = limitsOf(module);
  for (const [name, value] of Object.entries(limits)) {
    const known =
      Object.hasOwn(specs, name) || (!declares && UNDECLARED_GUEST_LIMITS.includes(name));
    if (!known) {
      const names = declares
        ? Object.keys(specs)
        : [...Object.keys(specs), ...UNDECLARED_GUEST_LIMITS];
      throw new WasmloopError(
        'ERR_WASMLOOP_LIMIT',
        `unknown limit '${name}' for this module (it takes: ${names.join(', ')})`,
      );
    }
    checkLimitValues({ [name]: value });
    const spec = Object.hasOwn(specs, name) ? specs[name]! : undefined;
    if (spec !== undefined && (value < spec.min || value > spec.max)) {
      throw new WasmloopError(
        'ERR_WASMLOOP_LIMIT',
        `limit '${name}' must be in [${spec.min}, ${spec.max}], not ${value}`,
      );
    }
  }
  return limits;
}

/** Checks values only (every one a finite number >= 0), for before the module is known. */
export function checkLimitValues(limits: Limits): Limits {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new WasmloopError(
        'ERR_WASMLOOP_LIMIT',
        `limit '${name}' must be a number >= 0, not ${String(value)}`,
      );
    }
  }
  return limits;
}

/** The limits a guest sees: the host-enforced ones at their defaults (so the guest plans with
 *  the numbers the host enforces), the defaults `module` declares, then the caller's. */
export function effectiveLimits(limits: Limits, module?: WebAssembly.Module): Limits {
  return {
    'max-memory-size': HOST_LIMITS['max-memory-size']!.default,
    'max-table-elements': HOST_LIMITS['max-table-elements']!.default,
    ...(module === undefined ? {} : declaredDefaults(module)),
    ...limits,
  };
}

/** The defaults `module` declares, name -> default (none for a module that declares nothing). */
export function declaredDefaults(module: WebAssembly.Module): Limits {
  return Object.fromEntries(
    Object.entries(declaredLimits(module) ?? {}).map(([name, spec]) => [name, spec.default]),
  );
}

/** Help lines for a set of limits, `name=default  help`, as --help and `wasmloop limits` print. */
export function limitHelp(specs: Record<string, LimitSpec>): string {
  return Object.entries(specs)
    .map(([name, l]) => `    ${`${name}=${l.default}`.padEnd(25)} ${l.help}`)
    .join('\n');
}

/** Parses one `name=value` as `-W` takes it. */
export function parseLimit(text: string): [string, number] {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : '';
  const raw = eq > 0 ? text.slice(eq + 1) : '';
  if (name === '' || !/^\d+(\.\d+)?$/.test(raw)) {
    throw new WasmloopError(
      'ERR_WASMLOOP_USAGE',
      `-W needs name=value with a number, not '${text}' (see wasmloop --help)`,
    );
  }
  // The name is checked once the module is known (its declaration says which it takes).
  return [name, Number(raw)];
}

/** The most connections one instance may hold (an ABI value: host/abi.ts MAX_SLOTS). */
export const MAX_CONNECTIONS_LIMIT = MAX_SLOTS;

/** max-connections as the guest core reads it (at least 1, at most MAX_CONNECTIONS_LIMIT), the
 *  number the host holds every instance to (host/guest/handles.ts) and sizes the worker registry by. */
export function connectionLimit(limits: Readonly<Record<string, number>>): number {
  const value = Object.hasOwn(limits, 'max-connections')
    ? limits['max-connections']!
    : HOST_LIMITS['max-connections']!.default;
  return Number.isFinite(value)
    ? Math.min(Math.max(Math.trunc(value), 1), MAX_CONNECTIONS_LIMIT)
    : HOST_LIMITS['max-connections']!.default;
}
