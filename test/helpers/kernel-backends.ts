/**
 * The two kernels of host/kernel/contract.ts behind one test interface, so that
 * test/kernel-contract.ts states the contract once and runs it on both (as mio runs its tests
 * on every backend):
 *  - `native`: the C shim over real loopback sockets; clients are node:net sockets, so bytes
 *    arrive after a moment and a test waits for them (`until`, epollWait with a timeout);
 *  - `sim`: a fresh SimKernel per test; clients are scripted SimPeers, everything is instant.
 * Fds are plain numbers here (test/helpers/raw-kernel.ts): the tests pass closed and invalid
 * numbers on purpose.
 */
import * as net from 'node:net';
import * as assert from 'uvu/assert';
import { Errno } from '../../host/errno.ts';
import type { Kernel, SockAddr } from '../../host/kernel/contract.ts';
import { loadNative } from '../../host/kernel/native.ts';
import { SimKernel } from '../../host/kernel/sim/kernel.ts';
import { raw, type RawKernel } from './raw-kernel.ts';

/** The remote end of one connection, driven by the test. */
export interface Client {
  /** The address it connects from: what the server's peerAddress reports. */
  readonly address: SockAddr;
  write(text: string): void;
  /** FIN (half-close): the server reads the bytes already written, then 0. */
  end(): void;
  /** RST. */
  reset(): void;
  /** close(): FIN, or RST when the server's bytes are unread. Idempotent. */
  destroy(): void;
  /** Everything received from the server so far. */
  text(): string;
}

export interface Backend {
  readonly name: 'native' | 'sim';
  readonly k: RawKernel<Kernel>;
  /** A connected client; `from` picks its source address (a loopback one). */
  connect(port: number, host?: string, from?: string): Promise<Client>;
}

export type BackendFactory = () => Backend;

const native = raw(loadNative());

export function nativeBackend(): Backend {
  return { name: 'native', k: native, connect: nativeClient };
}

async function nativeClient(port: number, host = '127.0.0.1', from?: string): Promise<Client> {
  const sock = net.connect({ port, host, localAddress: from });
  const received: Buffer[] = [];
  sock.on('data', (b) => received.push(b));
  sock.on('error', () => {}); // resets are provoked on purpose
  await new Promise((r) => sock.once('connect', r));
  return {
    address: {
      host: sock.localAddress!,
      port: sock.localPort!,
      family: net.isIPv6(sock.localAddress!) ? 6 : 4,
    },
    write: (text) => {
      sock.write(text);
    },
    end: () => {
      sock.end();
    },
    reset: () => {
      sock.resetAndDestroy();
    },
    destroy: () => {
      sock.destroy();
    },
    text: () => Buffer.concat(received).toString(),
  };
}

export function simBackend(): Backend {
  const sim = new SimKernel();
  return {
    name: 'sim',
    k: raw<Kernel>(sim),
    connect: async (port, host, from) => {
      const peer = sim.connect(port, host, from);
      if (peer.refused || peer.address === null)
        throw new Error(`sim: connection to ${port} refused`);
      let received = '';
      let done = false; // a SimPeer throws on a second FIN/RST; a node socket does not
      const last = (f: () => void) => () => {
        if (!done) {
          done = true;
          f();
        }
      };
      return {
        address: peer.address,
        write: (text) => {
          peer.write(text);
        },
        end: last(() => peer.shutdownWrite()),
        reset: last(() => peer.reset()),
        destroy: last(() => peer.close()),
        text: () => (received += peer.readText()),
      };
    },
  };
}

// ---- helpers shared by the contract's cases ---------------------------------------------

export const EAGAIN = -Errno.EAGAIN;

/** Polls `f` on the event loop until it returns something other than undefined. */
export async function until<T>(f: () => T | undefined, what: string, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export function listen4(
  k: RawKernel<Kernel>,
  reusePort = false,
  port = 0,
): { fd: number; addr: SockAddr } {
  const fd = k.listen('127.0.0.1', port, 16, reusePort);
  assert.ok(fd >= 0, `listen: ${fd}`);
  const addr = k.localAddress(fd);
  assert.type(addr, 'object');
  return { fd, addr: addr as SockAddr };
}

/** accept until it returns something other than -EAGAIN. */
export const acceptReady = (k: RawKernel<Kernel>, lfd: number) =>
  until(() => {
    const r = k.accept(lfd);
    return r === EAGAIN ? undefined : r;
  }, 'accept');

/** A listener, a connected client and the accepted fd. */
export async function connection(b: Backend) {
  const l = listen4(b.k);
  const c = await b.connect(l.addr.port);
  const fd = await acceptReady(b.k, l.fd);
  assert.ok(fd >= 0, `accept: ${fd}`);
  return {
    ...c,
    fd,
    lfd: l.fd,
    close() {
      c.destroy();
      b.k.close(fd);
      b.k.close(l.fd);
    },
  };
}

/** recv until it returns something other than -EAGAIN. */
export const recvReady = (
  k: RawKernel<Kernel>,
  fd: number,
  mem: ArrayBuffer,
  ptr: number,
  len: number,
) =>
  until(() => {
    const r = k.recv(fd, mem, ptr, len);
    return r === EAGAIN ? undefined : r;
  }, 'recv');

export const filled = (n: number) => {
  const b = new ArrayBuffer(n);
  new Uint8Array(b).fill(0xaa);
  return b;
};

/** Every byte outside [from, to) still holds the 0xaa canary. */
export function untouchedOutside(buf: ArrayBuffer, from: number, to: number) {
  new Uint8Array(buf).forEach((v, i) => {
    if ((i < from || i >= to) && v !== 0xaa) assert.unreachable(`byte ${i} was written`);
  });
}

/** Waits (up to 2 s on the native kernel) until `fd` is readable, without reading it. */
export function readable(k: RawKernel<Kernel>, fd: number): void {
  const ep = k.epollCreate();
  k.epollCtl(ep, 1 /* EPOLL_CTL_ADD */, fd, 1 /* EPOLLIN */, 0, 0);
  assert.is(k.epollWait(ep, new ArrayBuffer(12), 0, 1, 2000), 1, 'readable');
  k.close(ep);
}

export interface Ev {
  events: number;
  lo: number;
  hi: number;
}

/** epollWait into a scratch buffer, decoded; `timeoutMs` > 0 when an event is expected. */
export function waitEvents(k: RawKernel<Kernel>, ep: number, timeoutMs = 0, max = 64): Ev[] {
  const mem = new ArrayBuffer(max * 12);
  const n = k.epollWait(ep, mem, 0, max, timeoutMs);
  assert.ok(n >= 0, `epollWait: ${n}`);
  const view = new DataView(mem);
  return Array.from({ length: n }, (_, i) => ({
    events: view.getUint32(i * 12, true),
    lo: view.getUint32(i * 12 + 4, true),
    hi: view.getUint32(i * 12 + 8, true),
  }));
}

/** The next non-empty epollWait, polled on the event loop (a blocking wait would stop node
 *  from sending what a native client queued, e.g. the FIN of `end()`). */
export const nextEvents = (k: RawKernel<Kernel>, ep: number) =>
  until(() => {
    const e = waitEvents(k, ep);
    return e.length > 0 ? e : undefined;
  }, 'an event');

/** Writes I/O records (handle 0, buf, len, result 0x7eadbeef) at offset 0 of `mem`. */
export function ioRecords(mem: ArrayBuffer, list: [number, number][]): Int32Array {
  const w = new Int32Array(mem);
  list.forEach(([buf, len], i) => w.set([0, buf, len, 0x7eadbeef], i * 4));
  return w;
}
