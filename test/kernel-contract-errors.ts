/**
 * The Kernel contract, third part (see test/kernel-contract.ts): closed and never-opened fds,
 * the wrong kind of descriptor, epollCtl's errors, resets, shutdown and SIGPIPE, and
 * MAX_EVENTS. Differences between the kernels are the deviations listed in
 * host/kernel/sim/kernel.ts, asserted per kernel by name.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  MAX_EVENTS,
  SHUT_RD,
  SHUT_WR,
} from '../host/kernel/contract.ts';
import {
  type Backend,
  type BackendFactory,
  connection,
  filled,
  listen4,
  readable,
  until,
  waitEvents,
} from './helpers/kernel-backends.ts';

/** A number no process has open (Linux caps descriptors far below it). */
const NEVER_OPEN = 1 << 30;

const CONTRACT_ERRORS: Record<string, (b: Backend) => void | Promise<void>> = {
  'a closed or never-opened fd is -EBADF': (b) => {
    const { k } = b;
    const { fd } = listen4(k);
    assert.is(k.close(fd), 0);
    const mem = new ArrayBuffer(8);
    for (const bad of [fd, NEVER_OPEN]) {
      assert.is(k.close(bad), -Errno.EBADF);
      assert.is(k.recv(bad, mem, 0, 8), -Errno.EBADF);
      assert.is(k.send(bad, mem, 0, 8), -Errno.EBADF);
      assert.is(k.accept(bad), -Errno.EBADF);
      assert.is(k.localAddress(bad), -Errno.EBADF);
      assert.is(k.peerAddress(bad), -Errno.EBADF);
      assert.is(k.shutdown(bad, SHUT_WR), -Errno.EBADF);
      assert.is(k.epollWait(bad, new ArrayBuffer(12), 0, 1, 0), -Errno.EBADF);
    }
  },

  'the wrong kind of descriptor: each call answers as Linux does': (b) => {
    const { k } = b;
    const l = listen4(k);
    const ep = k.epollCreate();
    const mem = new ArrayBuffer(16);
    assert.is(k.recv(ep, mem, 0, 4), -Errno.ENOTSOCK);
    assert.is(k.peerAddress(ep), -Errno.ENOTSOCK);
    assert.is(k.shutdown(ep, SHUT_RD), -Errno.ENOTSOCK);
    assert.is(k.recv(l.fd, mem, 0, 4), -Errno.ENOTCONN);
    assert.is(k.send(l.fd, mem, 0, 4), -Errno.EPIPE);
    assert.is(k.epollWait(l.fd, mem, 0, 1, 0), -Errno.EINVAL);
    assert.is(k.epollWait(ep, mem, 4, 1, 0), 0, 'a record that ends exactly at the end is fine');
    // Deviation (host/kernel/sim/kernel.ts): Linux takes SHUT_RD on a listener as "stop
    // listening" and answers 0; the sim answers -ENOTCONN.
    assert.is(k.shutdown(l.fd, SHUT_RD), b.name === 'sim' ? -Errno.ENOTCONN : 0);
    k.close(ep);
    k.close(l.fd);
  },

  'accept on a connection is -EINVAL; a record ending exactly at the end of memory is fine': async (
    b,
  ) => {
    const c = await connection(b);
    assert.is(b.k.accept(c.fd), -Errno.EINVAL);
    c.write('data');
    readable(b.k, c.fd);
    assert.is(b.k.recv(c.fd, new ArrayBuffer(16), 12, 4), 4);
    c.close();
  },

  'epollCtl errors (nested epoll and unknown bits: the sim refuses what Linux allows)': (b) => {
    const { k } = b;
    const l = listen4(k);
    const ep = k.epollCreate();
    const other = k.epollCreate();
    assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, l.fd, EPOLLIN, 0, 0), 0);
    assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, l.fd, EPOLLIN, 0, 0), -Errno.EEXIST);
    assert.is(k.epollCtl(other, EPOLL_CTL_MOD, l.fd, EPOLLIN, 0, 0), -Errno.ENOENT);
    assert.is(k.epollCtl(other, EPOLL_CTL_DEL, l.fd, 0, 0, 0), -Errno.ENOENT);
    assert.is(k.epollCtl(NEVER_OPEN, EPOLL_CTL_ADD, l.fd, EPOLLIN, 0, 0), -Errno.EBADF);
    assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, NEVER_OPEN, EPOLLIN, 0, 0), -Errno.EBADF);
    assert.is(k.epollCtl(l.fd, EPOLL_CTL_ADD, ep, EPOLLIN, 0, 0), -Errno.EINVAL, 'not an epoll fd');
    assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0, 0), -Errno.EINVAL, 'itself');
    assert.is(k.epollCtl(other, 9, l.fd, EPOLLIN, 0, 0), -Errno.EINVAL, 'bad op');
    assert.is(k.epollCtl(other, EPOLL_CTL_ADD, l.fd, EPOLLIN, 1.5, 0), -Errno.EINVAL, 'bad token');
    // Deviations (host/kernel/sim/kernel.ts): Linux nests epoll and ignores unknown bits.
    const nested = k.epollCtl(ep, EPOLL_CTL_ADD, other, EPOLLIN, 0, 0);
    assert.is(nested, b.name === 'sim' ? -Errno.EPERM : 0, 'nested epoll');
    const unknownBit = k.epollCtl(other, EPOLL_CTL_ADD, l.fd, 0x100, 0, 0);
    assert.is(unknownBit, b.name === 'sim' ? -Errno.EINVAL : 0, 'an unknown bit');
    assert.is(k.epollCtl(ep, EPOLL_CTL_DEL, l.fd, 0, 0, 0), 0);
    assert.is(k.close(other), 0);
    assert.is(k.close(other), -Errno.EBADF);
    assert.equal(waitEvents(k, ep), []);
    k.close(ep);
    k.close(l.fd);
  },

  'peer reset: ERR|HUP, then -ECONNRESET (the sim: every time; Linux: once, then EOF)': async (
    b,
  ) => {
    const { k } = b;
    const c = await connection(b);
    const ep = k.epollCreate();
    assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, c.fd, EPOLLOUT, c.fd, 0), 0);
    c.reset();
    const evs = await until(() => {
      const e = waitEvents(k, ep);
      return e[0]?.events! & EPOLLERR ? e : undefined;
    }, 'ERR');
    assert.is(evs.length, 1);
    assert.is(evs[0]!.events & (EPOLLERR | EPOLLHUP), EPOLLERR | EPOLLHUP);
    // Deviation: Linux keeps reporting EPOLLOUT so that writers wake up; the sim does not.
    assert.is(evs[0]!.events & EPOLLOUT, b.name === 'sim' ? 0 : EPOLLOUT);
    const mem = new ArrayBuffer(16);
    assert.is(k.recv(c.fd, mem, 0, 10), -Errno.ECONNRESET);
    assert.is(k.recv(c.fd, mem, 0, 10), b.name === 'sim' ? -Errno.ECONNRESET : 0);
    assert.is(k.send(c.fd, mem, 0, 1), b.name === 'sim' ? -Errno.ECONNRESET : -Errno.EPIPE);
    assert.is(k.shutdown(c.fd, SHUT_WR), -Errno.ENOTCONN);
    assert.is(k.peerAddress(c.fd), -Errno.ENOTCONN);
    k.close(ep);
    c.close();
  },

  'send after a reset or our own shutdown is an errno, never a SIGPIPE': async (b) => {
    const { k } = b;
    const before = sigpipeCount();
    const mem = filled(4096);
    try {
      const a = await connection(b);
      a.reset();
      const r = await until(() => {
        const n = k.send(a.fd, mem, 0, 4096);
        return n < 0 ? n : undefined;
      }, 'send error');
      assert.ok(r === -Errno.ECONNRESET || r === -Errno.EPIPE, `send to a reset peer: ${r}`);
      // Deviation: after an RST the sim answers -ECONNRESET every time.
      assert.is(k.send(a.fd, mem, 0, 1), b.name === 'sim' ? -Errno.ECONNRESET : -Errno.EPIPE);
      a.close();

      const c = await connection(b);
      assert.is(k.shutdown(c.fd, SHUT_WR), 0);
      assert.is(k.send(c.fd, mem, 0, 1), -Errno.EPIPE);
      c.close();
      await new Promise((r) => setTimeout(r, 20));
      assert.is(sigpipeCount(), before, 'no SIGPIPE was raised');
    } finally {
      // The listener stays: removing Node's last SIGPIPE listener sets SIGPIPE back to SIG_DFL
      // (not to the SIG_IGN Node starts with), and any later write to a closed pipe or socket
      // without MSG_NOSIGNAL in this process (OpenSSL's socket BIO does that) would kill it.
    }
  },

  'peer FIN then our SHUT_WR: IN|RDHUP, then IN|RDHUP|HUP; a half-closed socket still sends':
    async (b) => {
      const { k } = b;
      const c = await connection(b);
      const ep = k.epollCreate();
      assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, c.fd, EPOLLIN | EPOLLRDHUP, c.fd, 0), 0);
      c.write('last words');
      c.end();
      const mem = new ArrayBuffer(64);
      await until(
        () => (waitEvents(k, ep)[0]?.events === (EPOLLIN | EPOLLRDHUP) ? true : undefined),
        'RDHUP',
      );
      assert.is(k.recv(c.fd, mem, 0, 64), 10);
      assert.is(k.recv(c.fd, mem, 0, 64), 0);
      assert.equal(waitEvents(k, ep), [{ events: EPOLLIN | EPOLLRDHUP, lo: c.fd, hi: 0 }]);
      new Uint8Array(mem).set(Buffer.from('bye'));
      assert.is(k.send(c.fd, mem, 0, 3), 3, 'half-closed: the server can still send');
      assert.is(k.shutdown(c.fd, SHUT_WR), 0);
      assert.equal(waitEvents(k, ep, 1000), [
        { events: EPOLLIN | EPOLLRDHUP | EPOLLHUP, lo: c.fd, hi: 0 },
      ]);
      await until(() => (c.text() === 'bye' ? true : undefined), 'the bytes');
      assert.is(k.shutdown(c.fd, 3), -Errno.EINVAL);
      k.close(ep);
      c.close();
    },

  'MAX_EVENTS is the same bound for every kernel': (b) => {
    const { k } = b;
    const ep = k.epollCreate();
    assert.is(
      k.epollWait(ep, new ArrayBuffer(16), 0, MAX_EVENTS + 1, 0),
      -Errno.EINVAL,
      'above MAX_EVENTS',
    );
    k.close(ep);
  },
};

/** Registers and runs the cases on `backend()` (a fresh backend per case). */
export function kernelContractErrors(name: string, backend: BackendFactory): void {
  const test = suite(`kernel contract, descriptor errors and endings (${name})`);
  for (const [title, run] of Object.entries(CONTRACT_ERRORS)) test(title, () => run(backend()));
  test.run();
}

let sigpipes = -1;
/** SIGPIPEs seen by this process; the first call installs a listener that is never removed
 *  (see the SIGPIPE case above). Node ignores SIGPIPE; a listener makes one visible. */
function sigpipeCount(): number {
  if (sigpipes < 0) {
    sigpipes = 0;
    process.on('SIGPIPE', () => sigpipes++);
  }
  return sigpipes;
}
