/**
 * poll_oneoff and bad-fd errnos for WASI commands (host/command-poll.ts, host/command-ready.ts,
 * host/command-stdio.ts withUnsignedArgs), held to the preview1 spec on both backends, run by
 * build/test/cmd-poll.wasm (test/guests/cmd-poll.ts), which prints every event it gets back as
 * "sub I: error E type T nbytes N flags F" (type 0 clock, 1 fd_read, 2 fd_write; flags 1 is
 * fd_readwrite_hangup; errno 8 EBADF, 21 EFAULT, 28 EINVAL).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCommand, type WasiBackendName } from '../host/command.ts';
import { killCmdChildren, ROOT } from './helpers/cmd-spawn.ts';

const MODULE_PATH = join(ROOT, 'build/test/cmd-poll.wasm');
const MODULE = new WebAssembly.Module(readFileSync(MODULE_PATH));
const BACKENDS: WasiBackendName[] = ['wasmer', 'node'];

let scratch = '';
const setup = () => { scratch = mkdtempSync(join(tmpdir(), 'wasmloop-poll-')); };
const teardown = () => {
  killCmdChildren();
  rmSync(scratch, { recursive: true, force: true });
};

interface Run {
  status: number;
  stdout: string;
  ms: number;
  cpuMs: number;
}

/** runCommand in this process, with a temp file holding `input` as stdin. */
async function run(backend: WasiBackendName, args: string[], input = ''): Promise<Run> {
  writeFileSync(join(scratch, 'in'), input);
  const stdin = openSync(join(scratch, 'in'), 'r'), stdout = openSync(join(scratch, 'out'), 'w'), stderr = openSync(join(scratch, 'err'), 'w');
  try {
    const cpu = process.cpuUsage(), start = performance.now();
    const status = await runCommand(MODULE, { args: ['cmd-poll.wasm', ...args], env: {}, dirs: [], backend, stdin, stdout, stderr });
    const ms = performance.now() - start, used = process.cpuUsage(cpu);
    return { status, stdout: readFileSync(join(scratch, 'out'), 'utf8'), ms, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    for (const fd of [stdin, stdout, stderr]) closeSync(fd);
  }
}

for (const backend of BACKENDS) {
  const test = suite(`WASI poll_oneoff and bad fds, ${backend} backend`);
  test.before.each(setup);
  test.after.each(teardown);

  test('fd_write to a bad fd is EBADF, also for fds with the top bit set', async () => {
    const r = await run(backend, ['write', '99', '2147483648', '4294967295']);
    assert.is(r.stdout, 'fd 99: errno 8\nfd 2147483648: errno 8\nfd 4294967295: errno 8\n');
    assert.is(r.status, 0);
  });

  test.run();
}
