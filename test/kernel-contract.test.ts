/**
 * The Kernel contract (test/kernel-contract.ts, test/kernel-contract-io.ts,
 * test/kernel-contract-errors.ts) on both kernels: the native shim over real loopback sockets
 * and the simulated kernel. Backend-specific
 * behaviour stays in test/native.test.ts (uv_poll, workers, the loader) and
 * test/sim-kernel.test.ts (scripted peers) and test/sim-faults.test.ts (faults, determinism).
 * Run: npx tsx node_modules/uvu/bin.js test kernel-contract
 */
import { readdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../host/errno.ts';
import { nativeBackend, simBackend } from './helpers/kernel-backends.ts';
import { kernelContract } from './kernel-contract.ts';
import { kernelContractIo } from './kernel-contract-io.ts';
import { kernelContractErrors } from './kernel-contract-errors.ts';

const countFds = () => readdirSync('/proc/self/fd').length;
let openFdsAtStart = 0;
// Taken when the suites start, not at import: other files' suites may run first in one process.
const before = suite('descriptors before');
before('count the open descriptors', () => {
  openFdsAtStart = countFds();
});
before.run();

function nativeHasIpv6Loopback(): boolean {
  const { k } = nativeBackend();
  const fd = k.listen('::1', 0, 16, false);
  if (fd >= 0) k.close(fd);
  return fd !== -Errno.EADDRNOTAVAIL && fd !== -Errno.EAFNOSUPPORT; // another error: the test shows it
}

kernelContract('native', nativeBackend, nativeHasIpv6Loopback());
kernelContract('sim', simBackend, true);
kernelContractIo('native', nativeBackend);
kernelContractIo('sim', simBackend);
kernelContractErrors('native', nativeBackend);
kernelContractErrors('sim', simBackend);

const after = suite('descriptors after');
after('every descriptor the native contract suites opened is closed', async () => {
  await new Promise((r) => setTimeout(r, 10));
  // At most as many: a descriptor the loader or tsx held at the start may close meanwhile.
  const now = countFds();
  assert.ok(now <= openFdsAtStart, `${now - openFdsAtStart} descriptors leaked`);
});
after.run();
