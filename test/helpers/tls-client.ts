/**
 * node:tls clients for the TLS tests: connect with the test's CA, exchange bytes, read an
 * HTTP answer. Every socket is tracked (closeAllClients) and every wait has a timeout.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

import { track, withTimeout } from './net-tcp.ts';

export type TlsClientOptions = Omit<tls.ConnectionOptions, 'port' | 'host'>;

/** A TLS connection to 127.0.0.1:port, trusting `ca`, once its handshake is done. */
export async function tlsConnect(
  port: number,
  ca: string,
  opts: TlsClientOptions = {},
): Promise<tls.TLSSocket> {
  const sock = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts });
  track(sock);
  await withTimeout(once(sock, 'secureConnect'), 5000, 'the TLS handshake');
  return sock;
}

/** Reads from `sock` until `done(bytes so far)` says so (or the stream ends). */
export function readUntil(
  sock: Duplex,
  done: (got: Buffer) => boolean,
  ms = 5000,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const p = new Promise<Buffer>((resolve, reject) => {
    const finish = (): void => {
      sock.off('data', onData);
      resolve(Buffer.concat(chunks, size));
    };
    const onData = (b: Buffer): void => {
      chunks.push(b);
      size += b.length;
      if (done(Buffer.concat(chunks, size))) finish();
    };
    sock.on('data', onData);
    sock.once('end', finish);
    sock.once('error', reject);
  });
  return withTimeout(p, ms, 'the TLS answer');
}

/** How many complete "HTTP/1.1 " answers `buf` holds (hello's answers have no chunked body). */
export const answers = (buf: Buffer): number =>
  buf.toString('latin1').split('HTTP/1.1 ').length - 1;

/** The first flight of a real node:tls client (its ClientHello, SNI localhost), caught by a
 *  plain TCP server. */
export async function clientHello(): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection');
  const port = (server.address() as net.AddressInfo).port;
  const client = tls.connect({ port, host: '127.0.0.1', servername: 'localhost' });
  client.on('error', () => {});
  const [sock] = (await got) as [net.Socket];
  const [hello] = (await once(sock, 'data')) as [Buffer];
  client.destroy();
  sock.destroy();
  server.close();
  return hello;
}
