/**
 * Child processes for the WASI command tests: stdin, stdout and stderr are all pipes the test
 * holds, stdout is kept as bytes (for byte-exact comparisons), and every child is tracked so
 * `killCmdChildren()` (call it in an `after.each` hook) ends any that is still running.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = fileURLToPath(new URL('./cmd-run.ts', import.meta.url));
// The bundled CLI as users run it (dist/, which npm test's pretest builds): it starts in a
// fraction of the time host/cli.ts takes under tsx, which these tests paid per child.
const CLI = `${ROOT}bin/wasmloop.js`;
const COUNTER = fileURLToPath(new URL('./cmd-count.ts', import.meta.url));
// Resolved here, not by the child: a child may run in a directory with no node_modules.
const TSX = import.meta.resolve('tsx');

const children = new Set<ChildProcessWithoutNullStreams>();

export function killCmdChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export interface CmdChild {
  proc: ChildProcessWithoutNullStreams;
  stdout(): Buffer;
  stderr(): string;
  running(): boolean;
  /** Resolves with the exit status (or the signal's name) once stdout and stderr are read to
   *  their end; rejects after `ms`. */
  exited(ms?: number): Promise<number | string>;
}

function track(proc: ChildProcessWithoutNullStreams, what: string): CmdChild {
  children.add(proc);
  const out: Buffer[] = [];
  let err = '';
  proc.stdout.on('data', (b: Buffer) => out.push(b));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  proc.stdin.on('error', () => {}); // a guest that exits without reading all its input: EPIPE
  let done = false;
  const exit = new Promise<number | string>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      done = true;
      children.delete(proc);
      resolve(code ?? signal ?? -1);
    });
  });
  exit.catch(() => {});
  return {
    proc,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    running: () => !done && proc.exitCode === null,
    exited(ms = 20000) {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not exit within ${ms} ms; stderr: ${err}`)),
          ms,
        );
      });
      return Promise.race([exit, t]).finally(() => clearTimeout(timer));
    },
  };
}

/** Starts test/helpers/cmd-run.ts (runCommand in a process of its own) with these arguments. */
export function startRunner(args: string[], cwd = ROOT): CmdChild {
  const proc = spawn(process.execPath, ['--import', TSX, RUNNER, ...args], { cwd, stdio: 'pipe' });
  return track(proc, `cmd-run ${args.join(' ')}`);
}

/** Starts test/helpers/cmd-count.ts (runCommand on one listener, counting epoll calls). */
export function startCounted(args: string[]): CmdChild {
  const proc = spawn(process.execPath, ['--import', TSX, COUNTER, ...args], { stdio: 'pipe' });
  return track(proc, `cmd-count ${args.join(' ')}`);
}

/** Starts the real CLI (bin/wasmloop.js) with these arguments. */
export function startCli(args: string[], cwd = ROOT): CmdChild {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: 'pipe' });
  return track(proc, `wasmloop ${args.join(' ')}`);
}

/** Starts the real CLI as systemd socket activation does (`--listenfd`): `fd3` (a host fd, or
 *  'pipe') becomes its fd 3, `env` is added to its environment, and LISTEN_PID is the CLI's own
 *  pid (set by the shell that execs it) unless `env` gives LISTEN_PID_AS instead. */
export function startActivatedCli(
  args: string[],
  fd3: number | 'pipe',
  env: Record<string, string>,
): CmdChild {
  const script = 'export LISTEN_PID="${LISTEN_PID_AS:-$$}"; exec "$@"';
  const proc = spawn('bash', ['-c', script, 'bash', process.execPath, CLI, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe', fd3],
    env: { ...process.env, ...env },
  }) as ChildProcessWithoutNullStreams;
  return track(proc, `LISTEN_FDS=${env.LISTEN_FDS ?? ''} wasmloop ${args.join(' ')}`);
}

/** Polls until `cond` holds; rejects with `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
