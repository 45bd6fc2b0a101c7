/**
 * `wasmloop run` reloads (bin/wasmloop.js over dist/, host/cli-reload.ts): SIGHUP re-reads the
 * module file named on the command line; a file that is not a guest (or half written) is one
 * line on stderr and the old guest serves on, the exit status unchanged; `--watch` reloads when
 * the file changes. The file is a copy in a temporary directory, replaced by each test.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GET, readResponse } from './helpers/net-http.ts';
import { killAllChildren, startChild, type Child } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, waitFor } from './helpers/net-tcp.ts';

const test = suite('reload-cli');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELLO = 'Hello, World!';
const DEMO = 'Hello from wasmloop!\n';
let dir = '';

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmloop-reload-'));
});
test.after.each(() => {
  closeAllClients();
  killAllChildren();
  rmSync(dir, { recursive: true, force: true });
});

/** Serves a copy of hello.wasm with `extra`; resolves once it serves. */
async function serve(extra: string[] = []): Promise<{ child: Child; port: number; app: string }> {
  const app = join(dir, 'app.wasm');
  copyFileSync(join(ROOT, 'wasm/hello.wasm'), app);
  const args = ['bin/wasmloop.js', 'run', app, '--tcplisten', '127.0.0.1:0', ...extra];
  const child = startChild(process.execPath, args, { cwd: ROOT });
  const port = await waitFor(() => {
    if (child.proc.exitCode !== null) throw new Error(`wasmloop exited: ${child.stderr()}`);
    const m = /^wasmloop: serving \S+ on 127\.0\.0\.1:(\d+)$/m.exec(child.stderr());
    return m ? Number(m[1]) : undefined;
  }, 'the serving line');
  return { child, port, app };
}

async function body(c: RawClient): Promise<string> {
  await c.write(GET());
  return (await readResponse(c)).body ?? '';
}

/** Waits for the `n`th line of stderr that matches `re`. */
function stderrLine(child: Child, re: RegExp, n = 1): Promise<string> {
  return waitFor(() => {
    const lines = child
      .stderr()
      .split('\n')
      .filter((l) => re.test(l));
    return lines.length >= n ? lines[n - 1] : undefined;
  }, `${re} on stderr`);
}

test('SIGHUP reloads the file; a broken file is one line and the old guest serves on', async () => {
  const { child, port, app } = await serve(['--workers', '2']);
  const c = await RawClient.connect(port);
  assert.is(await body(c), HELLO);
  copyFileSync(join(ROOT, 'wasm/demo.wasm'), app);
  child.proc.kill('SIGHUP');
  await stderrLine(child, /^wasmloop: SIGHUP: reloaded /);
  assert.is(await body(c), DEMO, 'the keep-alive connection moved');
  writeFileSync(app, 'not wasm');
  child.proc.kill('SIGHUP');
  const line = await stderrLine(
    child,
    /^wasmloop: SIGHUP: reload failed: .*; the old guest serves on$/,
  );
  assert.match(line, /not a valid WebAssembly module/);
  assert.is(await body(c), DEMO);
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

test('--watch reloads when the file changes', async () => {
  const { child, port, app } = await serve(['--watch']);
  const c = await RawClient.connect(port);
  assert.is(await body(c), HELLO);
  copyFileSync(join(ROOT, 'wasm/demo.wasm'), app);
  await stderrLine(child, /changed: reloaded /);
  assert.is(await body(c), DEMO);
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
});

test.run();
