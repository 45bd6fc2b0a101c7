/**
 * Child processes for end-to-end tests (curl, the wasmloop CLI). Every child is tracked and
 * `killAllChildren()` (call it in an `after` hook) kills those still running; every wait has
 * a timeout that fails the test.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status (or the signal's name); rejects after `ms`. */
  exited(ms?: number): Promise<number | string>;
}

export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exit = new Promise<number | string>((resolve, reject) => {
    proc.once('error', reject);
    // 'close' (not 'exit'): stdout and stderr have been read to their end.
    proc.once('close', (code, signal) => {
      children.delete(proc);
      resolve(code ?? signal ?? -1);
    });
  });
  exit.catch(() => {});
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited(ms = 10000) {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`${cmd} ${args.join(' ')} did not exit within ${ms} ms; stderr: ${err}`),
            ),
          ms,
        );
      });
      return Promise.race([exit, t]).finally(() => clearTimeout(timer));
    },
  };
}

/** Runs a command to completion: its status, stdout and stderr. */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
) {
  const c = startChild(cmd, args, opts);
  const code = await c.exited(opts.timeoutMs ?? 10000);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}
