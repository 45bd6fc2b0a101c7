/**
 * What the WASI command tests share (test/command*.test.ts): wasm/test/cmd-tool.wasm
 * (test/guests/cmd-tool.ts), a scratch directory per test (`setup` and `teardown` as hooks), and
 * runs in this process with temp files as the guest's stdio.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  runCommand,
  type CommandOptions,
  type WasiBackendName,
} from '../../host/command/command.ts';
import { WasmloopError } from '../../host/errors.ts';
import { killCmdChildren, ROOT } from './cmd-spawn.ts';
import { WASM_HEADER } from './wasm-asm.ts';

export const MODULE_PATH = join(ROOT, 'wasm/test/cmd-tool.wasm');
export const MODULE = new WebAssembly.Module(readFileSync(MODULE_PATH));
export const BACKENDS: WasiBackendName[] = ['wasmer', 'node'];
export const MiB = 1 << 20;

/** The current test's scratch directory (a live binding: `setup` replaces it). */
export let scratch = '';
export const setup = (): void => {
  scratch = mkdtempSync(join(tmpdir(), 'wasmloop-cmd-'));
};
export const teardown = (): void => {
  killCmdChildren();
  rmSync(scratch, { recursive: true, force: true });
};

export interface InProcessRun {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** runCommand in this process, with temp files as the guest's stdio (the same file for stdout
 *  and stderr when `merged`, to see how the two interleave). */
export async function runInProcess(
  args: string[],
  opts: Partial<CommandOptions> & { input?: Buffer; merged?: boolean } = {},
): Promise<InProcessRun> {
  const inPath = join(scratch, 'stdin'),
    outPath = join(scratch, 'stdout'),
    errPath = join(scratch, 'stderr');
  writeFileSync(inPath, opts.input ?? '');
  const stdin = openSync(inPath, 'r'),
    stdout = openSync(outPath, 'w'),
    stderr = opts.merged ? stdout : openSync(errPath, 'w');
  try {
    const status = await runCommand(MODULE, {
      env: {},
      dirs: [],
      ...opts,
      args: ['cmd-tool.wasm', ...args],
      stdin,
      stdout,
      stderr,
    });
    return {
      status,
      stdout: readFileSync(outPath),
      stderr: opts.merged ? '' : readFileSync(errPath, 'utf8'),
    };
  } finally {
    for (const fd of new Set([stdin, stdout, stderr])) closeSync(fd);
  }
}

/** The WasmloopError code `fn` rejects with. */
export async function errorCode(
  fn: () => Promise<unknown>,
): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof WasmloopError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a WasmloopError');
}

/** A minimal module: optional imports (module, name; all `() -> ()` functions), a memory, and an
 *  empty `_start`, for what AssemblyScript will not produce. */
export function tinyModule(imports: [string, string][]): WebAssembly.Module {
  const str = (s: string) => [s.length, ...Buffer.from(s)];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const bytes = [
    ...WASM_HEADER,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(2, [
      imports.length,
      ...imports.flatMap(([m, n]) => [...str(m), ...str(n), 0x00, 0]),
    ]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...str('_start'), 0x00, imports.length, ...str('memory'), 0x02, 0]),
    ...section(10, [1, 2, 0, 0x0b]),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}
