/**
 * Child process for test/native.test.ts: a pollStart callback that throws must surface as an
 * uncaught exception (non-zero exit, message on stderr), not vanish.
 */
import * as net from 'node:net';

import { loadNative } from '../../host/kernel/native.ts';
import { EPOLL_CTL_ADD, EPOLLIN } from '../../host/kernel/contract.ts';

const k = loadNative();
const epfd = k.epollCreate();
const lfd = k.listen('127.0.0.1', 0, 16, false);
const addr = k.localAddress(lfd);
if (epfd < 0 || lfd < 0 || typeof addr === 'number') throw new Error('setup failed');
k.epollCtl(epfd, EPOLL_CTL_ADD, lfd, EPOLLIN, 1, 0);
k.pollStart(epfd, () => {
  throw new Error('boom from the poll callback');
});
net.connect(addr.port, '127.0.0.1').on('error', () => {});
setTimeout(() => process.exit(0), 5000); // only reached if the throw was swallowed
