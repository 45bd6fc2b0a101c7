/**
 * The native shim (build/Release/wasmloop.node) beyond the Kernel contract: its exports, the
 * uv_poll lifecycle (pollStart/pollStop; pollTarget in test/native-poll-target.test.ts), workers, the loader's errors. The contract itself
 * (listen, epoll, recv/send, the batched calls, bounds and errnos) is tested once for both
 * kernels in test/kernel-contract.ts. Every check here fails without the behaviour it names.
 * Run: npx tsx test/native.test.ts
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Errno } from '../host/errno.ts';
import { EPOLL_CTL_ADD, EPOLLIN, type SockAddr } from '../host/kernel/contract.ts';
import { WasmloopError } from '../host/errors.ts';
import { loadNative } from '../host/kernel/native.ts';
import { until } from './helpers/kernel-backends.ts';
import { raw } from './helpers/raw-kernel.ts';

const k = raw(loadNative());
const countFds = () => readdirSync('/proc/self/fd').length;
let openFdsAtStart = 0; // taken when this suite starts: other suites may run first in one process
test.before(() => {
  openFdsAtStart = countFds();
});

// ---- helpers ---------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listen4(): { fd: number; addr: SockAddr } {
  const fd = k.listen('127.0.0.1', 0, 16, false);
  assert.ok(fd >= 0, `listen: ${fd}`);
  return { fd, addr: k.localAddress(fd) as SockAddr };
}

/** A connected node:net client. */
async function client(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  return { sock };
}

// ---- the shim's own surface ------------------------------------------------------------------

test('exports exactly the Kernel methods and ioDescriptors, plus pollStart/pollTarget/pollStop/pollLinger, adoptListener/dupListener and the tls* methods', () => {
  const names = [
    'epollCreate',
    'epollCtl',
    'epollWait',
    'listen',
    'localAddress',
    'peerAddress',
    'accept',
    'recv',
    'send',
    'recvMany',
    'sendMany',
    'shutdown',
    'close',
    'pollStart',
    'pollTarget',
    'pollStop',
    'pollLinger',
    'adoptListener',
    'dupListener',
    ...['tlsContext', 'tlsContextSwap', 'tlsContextAdd', 'tlsContextLimits', 'tlsContextFree'],
    ...['tlsContextStats', 'tlsListener', 'tlsListenerId', 'tlsInfo', 'tlsWake'],
  ];
  assert.equal(Object.keys(k).sort(), [...names, 'ioDescriptors'].sort());
  for (const n of names) assert.type((k as unknown as Record<string, unknown>)[n], 'function');
});

test('adoptListener takes a listening TCP socket only; dupListener shares its accept queue', async () => {
  const { fd, addr } = listen4();
  const file = k.epollCreate(); // open, but no socket
  assert.is(k.adoptListener(fd), 0);
  assert.is(k.adoptListener(file), -Errno.ENOTSOCK);
  k.close(file);
  assert.is(k.adoptListener(file), -Errno.EBADF);
  const copy = k.dupListener(fd);
  assert.ok(copy > fd, `dupListener: ${copy}`);
  k.close(fd);
  const { sock } = await client(addr.port); // queued on the shared socket, taken from the copy
  const accepted = await until(() => {
    const c = k.accept(copy);
    return c >= 0 ? c : undefined;
  }, 'the accept on the copy');
  k.close(accepted);
  sock.destroy();
  k.close(copy);
});

test('pollStart/pollStop: bad argument types are -EINVAL, never a throw (the rest: test/kernel-contract-io.ts)', () => {
  const any = k as unknown as Record<string, (...a: unknown[]) => unknown>;
  const bad: [string, unknown[]][] = [
    ['pollStart', [0, 'not a function']],
    ['pollStart', [-1, () => {}]],
    ['pollStop', [{}]],
    ['pollStop', [7]],
    ['pollStop', []],
  ];
  for (const [name, args] of bad) {
    assert.is(any[name]!(...args), -Errno.EINVAL, `${name}(${args.map(String).join(', ')})`);
  }
});

// ---- pollStart / pollStop --------------------------------------------------------------------

test('pollStart calls back when the epoll fd is readable; pollStop stops it', async () => {
  const ep = k.epollCreate();
  const l = listen4();
  k.epollCtl(ep, EPOLL_CTL_ADD, l.fd, EPOLLIN, 1, 0);
  const mem = new ArrayBuffer(12 * 8);
  let calls = 0;
  let accepted = 0;
  let wake = () => {};
  const handle = k.pollStart(ep, function (this: unknown) {
    calls++;
    assert.type(this, 'object'); // the receiver is an object, not undefined
    while (k.epollWait(ep, mem, 0, 8, 0) > 0) {
      for (let fd; (fd = k.accept(l.fd)) >= 0; accepted++) k.close(fd);
    }
    wake();
  });
  assert.type(handle, 'object');
  const woken = new Promise<void>((r) => {
    wake = r;
  });
  const c1 = await client(l.addr.port);
  await woken;
  assert.ok(calls >= 1);
  assert.is(accepted, 1);

  assert.is(k.pollStop(handle as object), 0);
  assert.is(k.pollStop(handle as object), -Errno.EBADF, 'a second pollStop is harmless');
  const before = calls;
  const c2 = await client(l.addr.port);
  await sleep(50);
  assert.is(calls, before, 'no callback after pollStop');
  assert.is(k.epollWait(ep, mem, 0, 8, 0), 1, 'the epoll fd itself is untouched');

  c1.sock.destroy();
  c2.sock.destroy();
  k.close(l.fd);
  k.close(ep);
});

test('pollStop from inside the callback', async () => {
  const ep = k.epollCreate();
  const l = listen4();
  k.epollCtl(ep, EPOLL_CTL_ADD, l.fd, EPOLLIN, 1, 0);
  let calls = 0;
  const handle = k.pollStart(ep, () => {
    calls++;
    assert.is(k.pollStop(handle as object), 0);
  }); // never drains
  const c = await client(l.addr.port);
  await until(() => (calls > 0 ? true : undefined), 'callback');
  await sleep(20);
  assert.is(calls, 1, 'level-triggered readiness no longer calls back');
  assert.is(k.pollStop(handle as object), -Errno.EBADF);
  c.sock.destroy();
  k.close(l.fd);
  k.close(ep);
});

test('pollStart takes only an open epoll fd, one poll at a time', () => {
  assert.is(
    k.pollStart(1 << 30, () => {}),
    -Errno.EBADF,
  );
  const { fd } = listen4();
  assert.is(
    k.pollStart(fd, () => {}),
    -Errno.EINVAL,
    'a socket is not an epoll fd',
  );
  const ep = k.epollCreate();
  const h = k.pollStart(ep, () => {});
  assert.type(h, 'object');
  assert.is(
    k.pollStart(ep, () => {}),
    -Errno.EEXIST,
    'libuv watches an fd once per loop',
  );
  assert.is(k.pollStop(h as object), 0);
  const again = k.pollStart(ep, () => {});
  assert.type(again, 'object', 'a stopped poll frees the fd for a new one');
  assert.is(k.pollStop(again as object), 0);
  k.close(ep);
  k.close(fd);
});

test('a throwing poll callback is an uncaught exception, not silence', () => {
  const helper = fileURLToPath(new URL('./helpers/poll-throws.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', helper], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.is.not(r.status, 0, `exit status ${r.status}`);
  assert.match(r.stderr, 'boom from the poll callback');
});

test('the addon loads in a worker, and a running poll is torn down when the worker ends', async () => {
  const addon = fileURLToPath(new URL('../build/Release/wasmloop.node', import.meta.url));
  const code = `
    const { parentPort } = require('node:worker_threads');
    const k = require(${JSON.stringify(addon)});
    const ep = k.epollCreate();
    const l = k.listen('127.0.0.1', 0, 16, false);
    k.epollCtl(ep, 1, l, 1, 0, 0);
    const h = k.pollStart(ep, () => {});
    parentPort.postMessage({ handle: typeof h, fds: [ep, l] });`;
  for (const end of ['terminate', 'exit'] as const) {
    const w = new Worker(end === 'exit' ? `${code}\nprocess.exit(3);` : code, { eval: true });
    const exited = new Promise((r) => w.once('exit', r));
    const msg = await new Promise<{ handle: string; fds: number[] }>((r, j) => {
      w.once('message', r);
      w.once('error', j);
    });
    assert.is(msg.handle, 'object');
    if (end === 'terminate') void w.terminate();
    assert.is(await exited, end === 'exit' ? 3 : 1);
    // Descriptors are per process: the worker left them open (the poll was stopped for it).
    for (const fd of msg.fds) assert.is(k.close(fd), 0);
  }
});

test('every descriptor the suite opened is closed', async () => {
  await sleep(10);
  assert.is(countFds(), openFdsAtStart);
});

// Last: importing a fresh copy of a .ts file makes tsx open descriptors of its own.
test('loadNative explains a wrong platform and a missing build', async () => {
  // A copy of the loader in a directory with no build/ beside it, so nothing is cached.
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-native-'));
  try {
    mkdirSync(join(dir, 'host', 'kernel'), { recursive: true });
    for (const f of ['kernel/native.ts', 'errors.ts']) {
      copyFileSync(fileURLToPath(new URL(`../host/${f}`, import.meta.url)), join(dir, 'host', f));
    }
    const copy = (await import(
      join(dir, 'host', 'kernel', 'native.ts')
    )) as typeof import('../host/kernel/native.ts');
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    let err: unknown;
    try {
      copy.loadNative();
    } catch (e) {
      err = e;
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_PLATFORM');
    assert.is((err as Error).message, 'wasmloop needs Linux (epoll); this is darwin');
    try {
      copy.loadNative();
    } catch (e) {
      err = e;
    }
    assert.is((err as WasmloopError).code, 'ERR_WASMLOOP_NATIVE');
    assert.is((err as Error).message, 'the native shim is not built: run `npm run build:native`');
    assert.ok((err as Error).cause instanceof Error);
    assert.is((err as Error).name, 'WasmloopError');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test.run();
