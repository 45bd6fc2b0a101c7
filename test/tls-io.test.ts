/**
 * TLS connections at the socket's edges (docs/SECURITY.md, "TLS"): writes to a peer that is
 * gone never raise SIGPIPE (the shim's socket BIO, host/native/tls-bio.c), and a handshake
 * that must write to a full socket gets EPOLLOUT interest while, and only while, it needs it
 * (host/native/tls-events.c).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { EPOLL_CTL_ADD, EPOLLIN, EPOLLOUT } from '../host/abi.ts';
import { Errno } from '../host/errno.ts';
import type { Fd, SockAddr } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { closeAllClients, track, waitFor, withTimeout } from './helpers/net-tcp.ts';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { makeCert } from './helpers/tls-certs.ts';
import { tlsConnect } from './helpers/tls-client.ts';

const test = suite('tls-io');
const main = makeCert('localhost', '127.0.0.1');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});

/** Uploads 2 MiB to echo, then closes the TCP stream under TLS before reading any echo: the
 *  server's next writes meet a closed socket (a reset, then EPIPE). */
async function uploadAndVanish(port: number): Promise<void> {
  const raw = track(net.connect(port, '127.0.0.1'));
  raw.on('error', () => {});
  const sock = tls.connect({ socket: raw, ca: main.cert, servername: 'localhost' });
  sock.on('error', () => {});
  await withTimeout(new Promise((r) => sock.once('secureConnect', r)), 5000, 'the handshake');
  await new Promise((r) => sock.write(Buffer.alloc(2 << 20, 'x'), r));
  raw.end(); // FIN with no close_notify: the server is in CLOSE_WAIT
  await withTimeout(new Promise((r) => raw.once('finish', r)), 5000, 'the FIN');
  raw.destroy(); // closed: the echo that arrives now is answered with a reset
}

test('SIGPIPE at SIG_DFL: writes to a vanished TLS peer do not kill the process', async () => {
  const args = ['test/helpers/tls-sigpipe-child.mjs'];
  const child = startChild(process.execPath, [...args, main.certFile, main.keyFile], {
    cwd: ROOT,
  });
  const port = Number(await waitFor(() => /port (\d+)/.exec(child.stdout())?.[1], 'serving'));
  const dead = () => `the child died (${child.proc.signalCode ?? child.proc.exitCode})`;
  for (let i = 0; i < 3; i++) {
    await uploadAndVanish(port).catch((err: Error) => {
      throw child.proc.exitCode === null && child.proc.signalCode === null
        ? err
        : new Error(dead());
    });
  }
  const alive = await tlsConnect(port, main.cert);
  alive.write('still here');
  const [back] = (await withTimeout(
    new Promise((r) => alive.once('data', (b: Buffer) => r([b]))),
    5000,
    'an echo',
  )) as [Buffer];
  assert.is(back.toString(), 'still here');
  assert.is(child.proc.signalCode, null, dead());
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

/*
 * A client whose socket takes almost nothing: a 536-byte MSS and the smallest receive buffer,
 * so the server's first flight (a long certificate chain) fills the server's socket. It sends
 * its ClientHello, says so, reads nothing until told "go" on stdin, then ends the handshake,
 * says "done", sends "ping" and waits for stdin to close.
 */
const SLOW_CLIENT = `
import socket, ssl, sys
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", int(sys.argv[1])))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost", do_handshake_on_connect=False)
t.setblocking(False)
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
print("hello", flush=True)
sys.stdin.readline()
t.setblocking(True)
t.do_handshake()
print("done", flush=True)
t.sendall(b"ping")
sys.stdin.read()
`;

/** The slow client on `port`, and what it has printed so far. */
function slowClient(port: number): { py: ChildProcess; said: () => string } {
  const py = spawn('python3', ['-c', SLOW_CLIENT, String(port)], { stdio: 'pipe' });
  let out = '';
  py.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return { py, said: () => out };
}

/**
 * Copies of a small certificate sent after the leaf: ~70 KB of DER. Bounds measured on Linux
 * 6.18: the kernel sizes the server's send buffer from the client's 536-byte MSS and initial
 * window, and 100 copies (~42 KB) fit in it, so the handshake never met a full socket; the
 * client's OpenSSL refuses a chain over 100 KiB (max_cert_list), which 240 copies pass.
 */
const PAD_COPIES = 170;

/** The kernel's interest (events mask) in the one fd epoll instance `ep` watches. */
function interest(ep: Fd): number {
  const info = readFileSync(`/proc/self/fdinfo/${ep}`, 'utf8');
  return parseInt(/tfd:\s+\d+\s+events:\s+([0-9a-f]+)/.exec(info)?.[1] ?? '0', 16);
}

test('a handshake that must write to a full socket gets EPOLLOUT until it can, then not', async () => {
  const k = loadNative();
  const pad = makeCert('pad.test').cert.repeat(PAD_COPIES);
  const id = k.tlsContext(Buffer.from(main.cert + pad), Buffer.from(main.key)) as number;
  const lfd = k.listen('127.0.0.1', 0, 16, false);
  k.tlsListener(lfd, id);
  const ep = k.epollCreate();
  const mem = new ArrayBuffer(1 << 16);
  const { py, said } = slowClient((k.localAddress(lfd) as SockAddr).port);
  try {
    const fd = await waitFor(() => {
      const c = k.accept(lfd);
      return c >= 0 && c;
    }, 'the accept');
    k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 7, 0);
    await waitFor(() => said().includes('hello'), 'the ClientHello');
    // The guest waits to read; the handshake inside its recv must write, and cannot.
    await waitFor(() => {
      assert.is(k.recv(fd, mem, 0, 100), -Errno.EAGAIN);
      return (interest(ep) & EPOLLOUT) !== 0;
    }, 'EPOLLOUT added while the handshake must write');
    py.stdin!.write('go\n');
    // Each wake-up the guest sees is EPOLLIN (it asked for nothing else); each recv resumes.
    const got = await waitFor(() => {
      if (k.epollWait(ep, mem, 60000, 4, 0) !== 1) return false;
      assert.is(new DataView(mem, 60000).getUint32(0, true) & (EPOLLIN | EPOLLOUT), EPOLLIN);
      const n = k.recv(fd, mem, 0, 100);
      return n > 0 && n;
    }, 'the handshake to resume and the ping');
    assert.is(Buffer.from(mem, 0, got).toString(), 'ping');
    // The client prints "done" before it sends "ping", but the pipe may be read after the socket.
    await waitFor(() => said().includes('done'), 'the client to report the handshake done');
    assert.is(interest(ep) & (EPOLLIN | EPOLLOUT), EPOLLIN, 'EPOLLOUT taken away again');
    assert.is(k.epollWait(ep, mem, 60000, 4, 0), 0, 'an idle connection wakes nobody');
    for (const f of [fd, lfd, ep] as Fd[]) k.close(f);
  } finally {
    py.kill();
    k.tlsContextFree(id);
  }
});

test.run();
