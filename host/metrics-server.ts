/**
 * `--metrics HOST:PORT`: a plain node:http server on the main thread that answers GET (and
 * HEAD) /metrics with `loop.metrics()` and 404 to anything else. It is the host's own
 * listener, opened by Node: never one of the guest's listeners, never in its handle table.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ListenAddress } from './address.ts';
import { WasmloopError } from './errors.ts';
import type { WasmLoop } from './types.ts';

/** The Content-Type of the text format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** Where it listens (the real port when port 0 was asked for). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** Starts serving `loop`'s metrics on `at`; rejects with ERR_WASMLOOP_LISTEN if it cannot
 *  listen there. */
export async function serveMetrics(loop: WasmLoop, at: ListenAddress): Promise<MetricsServer> {
  const server = createServer((req, res) => answer(loop, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new WasmloopError('ERR_WASMLOOP_LISTEN', `--metrics ${at.host}:${at.port}: ${err.message}`),
      ),
    );
    server.listen(at.port, at.host, resolve);
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : at.port;
  return {
    address: { host: at.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(loop: WasmLoop, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(path === '/metrics' ? 405 : 404, { 'Content-Type': 'text/plain' });
    res.end(
      path === '/metrics' ? 'only GET and HEAD\n' : 'not found: the metrics are at /metrics\n',
    );
    return;
  }
  const body = loop.metrics();
  res.writeHead(200, {
    'Content-Type': METRICS_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
