/**
 * The errno of each preview1 socket call, and of the fd_* calls on a socket descriptor, for a
 * WASI command with a preopened listener (host/command/sockets.ts, fd-table.ts), on both
 * backends: wasm/test/cmd-net.wasm (test/guests/cmd-net.ts) "errnos" prints "CALL: E" per call
 * on the listener (fd 3), stdout (fd 1, not a socket) and fd 99 (not open). The numbers are
 * the preview1 spec's: 6 EAGAIN, 8 EBADF, 28 EINVAL, 53 ENOTCONN, 57 ENOTSOCK, 70 ESPIPE.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WasiBackendName } from '../host/command/command.ts';
import { Errno } from '../host/errno.ts';
import { killCmdChildren, ROOT, startCli } from './helpers/cmd-spawn.ts';

const MODULE = `${ROOT}wasm/test/cmd-net.wasm`;

const EXPECTED: [string, number][] = [
  ['sock_accept bad fd', Errno.EBADF],
  ['sock_accept stdout', Errno.ENOTSOCK],
  ['sock_accept bad flags', Errno.EINVAL],
  ['fd_fdstat_set_flags nonblock', 0],
  ['sock_accept none waiting', Errno.EAGAIN],
  ['sock_recv bad fd', Errno.EBADF],
  ['sock_recv stdout', Errno.ENOTSOCK],
  ['sock_recv bad flags', Errno.EINVAL],
  ['sock_recv listener', Errno.ENOTCONN],
  ['sock_send bad fd', Errno.EBADF],
  ['sock_send stdout', Errno.ENOTSOCK],
  ['sock_shutdown bad fd', Errno.EBADF],
  ['sock_shutdown stdout', Errno.ENOTSOCK],
  ['sock_shutdown how 0', Errno.EINVAL],
  ['sock_shutdown how 4', Errno.EINVAL],
  ['fd_fdstat_get', 0],
  ['  filetype', 6], // socket_stream
  ['  flags', 4], // NONBLOCK, as set above
  ['fd_fdstat_set_flags append', Errno.EINVAL],
  ['  flags', 4], // unchanged by the refused call
  ['fd_fdstat_set_flags 0', 0],
  ['  flags', 0],
  ['fd_filestat_get', 0],
  ['  filetype', 6],
  ['fd_seek', Errno.ESPIPE],
  ['fd_prestat_get', Errno.EBADF], // not a directory: wasi-libc stops looking at EBADF
  ['fd_close', 0],
  ['fd_close again', Errno.EBADF],
  ['sock_accept closed', Errno.EBADF],
  ['fd_fdstat_get bad fd', Errno.EBADF],
];

const test = suite('WASI socket calls: errno values');
test.after.each(killCmdChildren);

for (const backend of ['wasmer', 'node'] as WasiBackendName[]) {
  test(`each call's errno (${backend} backend)`, async () => {
    const child = startCli([
      'run',
      '--wasi',
      backend,
      '--tcplisten',
      '127.0.0.1:0',
      MODULE,
      'errnos',
    ]);
    assert.is(await child.exited(), 0);
    assert.is(child.stdout().toString(), EXPECTED.map(([name, e]) => `${name}: ${e}\n`).join(''));
  });
}

test('without --tcplisten, a sock_* call on fd 3 (a directory) is ENOTSOCK', async () => {
  const child = startCli(['run', MODULE, 'errnos']);
  assert.is(await child.exited(), 0);
  const lines = child.stdout().toString().split('\n');
  assert.ok(lines.includes(`sock_accept bad flags: ${Errno.ENOTSOCK}`), lines.join('\n'));
  assert.ok(lines.includes(`sock_shutdown how 0: ${Errno.ENOTSOCK}`));
});

test.run();
