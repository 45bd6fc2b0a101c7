/**
 * Listen addresses: parsing `HOST:PORT` as the CLI takes it (`127.0.0.1:8080`, `[::1]:0`,
 * `localhost:9000`) and resolving a host name to the numeric address the shim binds.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { WasmloopError } from './errors.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`; throws ERR_WASMLOOP_ADDRESS with a one-line reason. */
export function parseHostPort(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!m)
    throw new WasmloopError(
      'ERR_WASMLOOP_ADDRESS',
      `bad address '${text}': expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080`,
    );
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (host === '')
    throw new WasmloopError('ERR_WASMLOOP_ADDRESS', `bad address '${text}': the host is missing`);
  checkPort(port, text);
  return { host, port };
}

export function checkPort(port: number, where: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WasmloopError('ERR_WASMLOOP_ADDRESS', `bad port in '${where}': must be 0..65535`);
  }
}

/** The numeric address for `host` (IP literals as they are, names through the resolver). */
export async function resolveHost(host: string): Promise<string> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare)) return bare;
  try {
    return (await lookup(bare)).address;
  } catch (err) {
    throw new WasmloopError(
      'ERR_WASMLOOP_ADDRESS',
      `cannot resolve '${host}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/** `host:port`, with brackets around IPv6. */
export function formatAddress({ host, port }: ListenAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
