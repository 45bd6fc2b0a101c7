/**
 * Hostcalls interrupted by the JS stack limit. A guest that recurses to just under the limit
 * and then calls accept or close makes the host's own code throw RangeError somewhere inside
 * the hostcall; wherever that is, the handle table and the kernel must agree, so that every
 * accepted fd is closed when the loop closes. build/test/hoarder.wasm makes the hostcall at
 * the bottom of `depth` nested calls; the test sweeps depths around the limit on real
 * loopback sockets and then looks for server-side sockets of its port still open in this
 * process (/proc/self/fd against /proc/net/tcp).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { Loop } from '../host/loop.ts';
import { loadNative } from '../host/native.ts';
import type { Kernel, SockAddr } from '../host/kernel.ts';
import { hoarder, LISTENER } from './helpers/hoarder.ts';
import { guestModule } from './helpers/sim.ts';
import { closeAllClients, RawClient } from './helpers/net-tcp.ts';

const test = suite('stack limit');
test.after.each(() => closeAllClients());

const EBADF = -8;

/** Inodes of this process's open sockets whose local port is `port` (listening or accepted). */
function socketsOnPort(port: number): number[] {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && parseInt(cols[1]!.split(':')[1]!, 16) === port) inodes.add(cols[9]!);
    }
  }
  const mine: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1]!)) mine.push(Number(fd));
  }
  return mine;
}

/** Calls `f`; true when it threw RangeError (the stack limit), rethrows anything else. */
function overflows(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (err) {
    if (err instanceof RangeError) return true;
    throw err;
  }
}

/** The deepest nesting at which accept, with no client waiting (-EAGAIN from accept(2)),
 *  still returns. */
function stackLimit(g: ReturnType<typeof hoarder>): number {
  let lo = 0;
  let hi = 1 << 20;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    if (overflows(() => g.accept_at(mid, LISTENER))) hi = mid; else lo = mid;
  }
  return lo;
}

/** The native kernel, or the same behind JS functions that make a nested call before the
 *  syscall, as a kernel written in JS does (the simulated one): such a kernel can throw before
 *  its syscall, which a native call does not. */
const KERNELS: Record<string, () => Kernel> = {
  native: loadNative,
  'a JS kernel over the native one': () => {
    const native = loadNative();
    const valid = (fd: number) => Number.isInteger(fd) && fd >= 0; // a nested call before the syscall
    return {
      ...native,
      accept: (fd) => (valid(fd) ? native.accept(fd) : -Errno.EBADF),
      close: (fd) => (valid(fd) ? native.close(fd) : -Errno.EBADF),
    };
  },
};

for (const [name, makeKernel] of Object.entries(KERNELS)) test(`${name}: accept and close at every depth near the stack limit: no accepted fd outlives the loop`, async () => {
  const kernel = makeKernel();
  const listener = kernel.listen('127.0.0.1', 0, 1024, false);
  assert.ok(listener >= 0, `listen: ${listener}`);
  const port = (kernel.localAddress(listener) as SockAddr).port;
  const loop = new Loop({ module: await guestModule('test/hoarder'), kernel, listeners: [listener], onTrap: () => {} });
  const g = hoarder({ loop });
  let accepted = 0;
  let interrupted = 0;
  // Twice, so that the second round runs on code the engine has optimised (other frame sizes).
  for (let round = 0; round < 2; round++) {
    const limit = stackLimit(g);
    for (let depth = limit - 200; depth <= limit + 20; depth++) {
      await RawClient.connect(port); // waits in the backlog for the guest's accept
      let handle = -1;
      if (overflows(() => { handle = g.accept_at(depth, LISTENER); })) interrupted++;
      if (handle < 0) continue;
      accepted++;
      // close at depths around the limit too (close's own limit differs from accept's);
      // when it is interrupted, close again from the top
      if (overflows(() => g.close_at(limit + 40 - (accepted % 100), handle))) interrupted++;
      const again = g.close_handle(handle);
      assert.ok(again === 0 || again === EBADF, `close again: ${again}`);
    }
  }
  assert.ok(accepted > 100, `${accepted} accepted, ${interrupted} interrupted`);
  assert.ok(interrupted > 20, `${interrupted} hostcalls interrupted by the stack limit`);
  loop.finish();
  kernel.close(listener);
  closeAllClients();
  assert.equal(socketsOnPort(port), [], 'server sockets still open after the loop closed');
});


test.run();
