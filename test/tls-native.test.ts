/**
 * The shim's TLS below the Kernel contract (host/native/tls-conn.c): plaintext decrypted but
 * not yet read is announced as EPOLLIN by epoll_wait although the socket is not readable, and
 * epoll_wait does not sleep while some is buffered.
 */
import * as tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { EPOLL_CTL_ADD, EPOLLIN } from '../host/abi.ts';
import { Errno } from '../host/errno.ts';
import type { Fd, SockAddr } from '../host/kernel/contract.ts';
import { loadNative } from '../host/kernel/native.ts';
import { sleep, track, waitFor } from './helpers/net-tcp.ts';
import { makeCert } from './helpers/tls-certs.ts';

const test = suite('tls-native');
const k = loadNative();
const main = makeCert('localhost');

test('buffered plaintext wakes epoll_wait, which then does not block', async () => {
  const id = k.tlsContext(Buffer.from(main.cert), Buffer.from(main.key)) as number;
  const lfd = k.listen('127.0.0.1', 0, 16, false);
  k.tlsListener(lfd, id);
  const ep = k.epollCreate();
  const mem = new ArrayBuffer(1 << 16);
  const port = (k.localAddress(lfd) as SockAddr).port;
  const client = track(
    tls.connect({ host: '127.0.0.1', port, ca: main.cert, servername: 'localhost' }),
  );
  let secure = false;
  client.once('secureConnect', () => (secure = true));
  const fd = await waitFor(() => {
    const c = k.accept(lfd);
    return c >= 0 && c;
  }, 'the accept');
  k.epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 7, 0);
  while (!secure) {
    assert.is(k.recv(fd, mem, 0, 1), -Errno.EAGAIN); // the handshake runs inside recv
    await sleep(2);
  }
  client.write(Buffer.alloc(10000, 'a')); // one TLS record
  await waitFor(() => k.epollWait(ep, mem, 60000, 4, 0) === 1, 'the record to arrive');
  assert.is(k.recv(fd, mem, 0, 100), 100); // the whole record is read from the socket
  const t0 = performance.now();
  assert.is(k.epollWait(ep, mem, 60000, 4, 5000), 1, 'the rest is announced');
  assert.ok(performance.now() - t0 < 1000, 'without sleeping');
  const rec = new DataView(mem, 60000);
  assert.is(rec.getUint32(0, true) & EPOLLIN, EPOLLIN);
  assert.is(rec.getUint32(4, true), 7);
  assert.is(k.recv(fd, mem, 0, 1 << 16), 9900);
  assert.is(k.epollWait(ep, mem, 60000, 4, 0), 0, 'nothing left');
  client.destroy();
  for (const f of [fd, lfd, ep] as Fd[]) k.close(f);
  assert.is(k.tlsContextFree(id), 0);
});

test.run();
