/**
 * The examples in examples/ (real programs, built by clang and rustc) served through the
 * bundled CLI as a user runs them, and what their tests check around them: that the committed
 * .wasm is still the build of the committed source, and which server-side sockets are open.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ROOT, startCli, until, type CmdChild } from './cmd-spawn.ts';

/** The WASI backends a test runs an example on: the default (wasmer) and node:wasi. */
export const BACKENDS = ['wasmer', 'node'] as const;

/** `wasmloop run --wasi <backend> --tcplisten 127.0.0.1:0 <wasm>`; resolves once it prints its
 *  `serving` line. */
export async function serveExample(
  wasm: string,
  backend: (typeof BACKENDS)[number] = 'wasmer',
): Promise<{ child: CmdChild; port: number }> {
  const child = startCli(['run', '--wasi', backend, '--tcplisten', '127.0.0.1:0', wasm]);
  const serving = () => /serving \S+ on 127\.0\.0\.1:(\d+)/.exec(child.stderr());
  await until(() => serving() !== null || !child.running(), 'the serving line');
  const port = serving()?.[1];
  if (port === undefined) throw new Error(`the example did not start: ${child.stderr()}`);
  return { child, port: Number(port) };
}

/** Mismatches between `dir`/build.sha256 (written by its build.sh) and the files it names. */
export function buildRecordMismatches(dir: string): string[] {
  const lines = readFileSync(`${ROOT}${dir}/build.sha256`, 'utf8').trim().split('\n');
  return lines.flatMap((line) => {
    const [digest, file] = line.split(/\s+/);
    const actual = createHash('sha256')
      .update(readFileSync(`${ROOT}${dir}/${file}`))
      .digest('hex');
    return actual === digest ? [] : [`${dir}/${file}`];
  });
}

/** Server-side TCP sockets on `port`, other than its listener, that a process still holds
 *  (/proc/net/tcp{,6}; the client's ends are under their own ephemeral ports). A socket
 *  closed by its process is orphaned, inode 0, whatever state (FIN_WAIT2, TIME_WAIT) TCP
 *  keeps it in a while longer. */
export function openConnections(port: number): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1]?.split(':')[1];
      if (
        local !== undefined &&
        parseInt(local, 16) === port &&
        cols[3] !== '0A' &&
        cols[9] !== '0'
      )
        n++;
    }
  }
  return n;
}

/** A connected client that keeps every byte it receives. */
export interface ByteClient {
  sock: Socket;
  received: () => Buffer;
  /** Resolves when the server ends its side. */
  ended: Promise<unknown>;
}

export async function byteClient(port: number): Promise<ByteClient> {
  const sock = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (b: Buffer) => chunks.push(b));
  const ended = new Promise((resolve) => sock.once('end', resolve));
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  return { sock, received: () => Buffer.concat(chunks), ended };
}

/** True once nothing listens on `port` any more. */
export async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(false)));
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
