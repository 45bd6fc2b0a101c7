/**
 * Hostcalls interrupted by the JS stack limit. A guest that recurses to just under the limit
 * and then calls accept or close makes the host's own code throw RangeError somewhere inside
 * the hostcall; wherever that is, the handle table and the kernel must agree, so that every
 * accepted fd is closed when the loop closes. wasm/test/hoarder.wasm makes the hostcall at
 * the bottom of `depth` nested calls; the test sweeps depths around the limit on real
 * loopback sockets and then looks for server-side sockets of its port still open in this
 * process (test/helpers/proc-sockets.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { Loop } from '../host/guest/loop.ts';
import { loadNative } from '../host/kernel/native.ts';
import type { Fd, Kernel, SockAddr } from '../host/kernel/contract.ts';
import { hoarder, LISTENER, type HoarderExports } from './helpers/hoarder.ts';
import { closeAllClients, RawClient } from './helpers/net-tcp.ts';
import { socketsOnPort } from './helpers/proc-sockets.ts';
import { guestModule, simLoop } from './helpers/sim.ts';

const test = suite('stack limit');
test.after.each(() => closeAllClients());

const EBADF = -8;

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

/** The deepest nesting at which `call(depth)` still returns. */
function deepest(call: (depth: number) => unknown): number {
  let lo = 0;
  let hi = 1 << 20;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    if (overflows(() => call(mid))) hi = mid;
    else lo = mid;
  }
  return lo;
}

interface Sweep {
  g: HoarderExports;
  port: number;
  accepted: number;
  interrupted: number;
}

/** accept at each depth around accept's own limit (found with no client waiting: -EAGAIN
 *  from accept(2)), one client waiting each time; what it accepts is closed from the top. */
async function sweepAccept(s: Sweep): Promise<void> {
  const limit = deepest((d) => s.g.accept_at(d, LISTENER));
  for (let depth = limit - 200; depth <= limit + 20; depth++) {
    await RawClient.connect(s.port); // waits in the backlog for the guest's accept
    let handle = -1;
    if (
      overflows(() => {
        handle = s.g.accept_at(depth, LISTENER);
      })
    )
      s.interrupted++;
    if (handle < 0) continue;
    s.accepted++;
    assert.is(s.g.close_handle(handle), 0);
  }
}

/** close at each depth around close's own limit (found with handle 0: -EBADF at once) of a
 *  connection accepted from the top; when it is interrupted, closed again from the top. */
async function sweepClose(s: Sweep): Promise<void> {
  const limit = deepest((d) => s.g.close_at(d, 0));
  for (let depth = limit - 150; depth <= limit + 10; depth++) {
    await RawClient.connect(s.port);
    const handle = s.g.accept_once(LISTENER);
    assert.ok(handle > 0, `accept from the top: ${handle}`);
    s.accepted++;
    if (overflows(() => s.g.close_at(depth, handle))) s.interrupted++;
    const again = s.g.close_handle(handle);
    assert.ok(again === 0 || again === EBADF, `close again: ${again}`);
  }
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
      accept: (fd) => (valid(fd) ? native.accept(fd) : (-Errno.EBADF as Fd)),
      close: (fd) => (valid(fd) ? native.close(fd) : -Errno.EBADF),
    };
  },
};

for (const [name, makeKernel] of Object.entries(KERNELS))
  test(`${name}: accept and close at every depth near the stack limit: no accepted fd outlives the loop`, async () => {
    const kernel = makeKernel();
    const listener = kernel.listen('127.0.0.1', 0, 1024, false);
    assert.ok(listener >= 0, `listen: ${listener}`);
    const port = (kernel.localAddress(listener) as SockAddr).port;
    const loop = new Loop({
      module: await guestModule('test/hoarder'),
      kernel,
      listeners: [listener],
      onTrap: () => {},
    });
    const sweep: Sweep = { g: hoarder({ loop }), port, accepted: 0, interrupted: 0 };
    // Twice, so that the second round runs on code the engine has optimised (other frame sizes).
    for (let round = 0; round < 2; round++) {
      await sweepAccept(sweep);
      await sweepClose(sweep);
    }
    assert.ok(sweep.accepted > 300, `${sweep.accepted} accepted`);
    assert.ok(
      sweep.interrupted > 5,
      `${sweep.interrupted} hostcalls interrupted by the stack limit`,
    );
    loop.finish();
    kernel.close(listener);
    closeAllClients();
    assert.equal(
      socketsOnPort(port),
      { listening: [], connected: [] },
      'server sockets still open after the loop closed',
    );
  });

test('an accept interrupted after accept(2), then teardown: the fd is closed and gone from the worker registry', async () => {
  const s = await simLoop('test/hoarder', { registry: new Int32Array(1 << 16).fill(-1) });
  const registry = s.loop.instance!.handles.registry!;
  const table = s.loop.instance!.handles;
  table.commitAccept = () => {
    throw new RangeError('Maximum call stack size exceeded');
  }; // where the stack limit would hit
  s.connect();
  assert.ok(
    overflows(() => hoarder(s).accept_once(LISTENER)),
    'the accept was interrupted',
  );
  assert.is(s.kernel.openFds(), 1, 'accept(2) happened');
  assert.ok(
    registry.slice(1).some((fd) => fd >= 0),
    'the pool could already find the fd',
  );
  s.loop.finish();
  assert.is(s.kernel.openFds(), 0, 'teardown closed it');
  assert.ok(
    registry.every((fd) => fd === -1),
    'and the registry holds no closed fd',
  );
});

test.run();
