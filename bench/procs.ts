/**
 * Child processes for the bench: spawned pinned to a CPU with a raised descriptor limit,
 * tracked, and always killed (with their whole process tree) at the end, even on error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, treePids } from './measure.ts';

/** The server runs alone on CPU 0; load generators, strace and this runner use CPU 1. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote so far. */
  stdout: string;
  stderr: string;
  /** Exit code (or 128 + signal); settles when the process has exited. */
  readonly exited: Promise<number>;
  exitCode: number | null;
}

const running = new Set<Proc>();
const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** Whether processes are really pinned (taskset exists). */
export function pinning(): boolean {
  return hasTaskset;
}

/**
 * Starts `cmd args` on `cpu`, through `sh` so the descriptor limit can be raised to 65536
 * (10,000 idle connections need more than the usual 1024; only root may raise the hard limit,
 * so others get their hard limit). `exec` keeps one pid: the pid we hold is the program's own.
 */
export function start(
  name: string,
  cpu: number,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const shell = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const argv = ['sh', '-c', shell, 'sh', cmd, ...args];
  const full = hasTaskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let settle!: (code: number) => void;
  const proc: Proc = {
    name,
    pid: child.pid ?? -1,
    child,
    stdout: '',
    stderr: '',
    exited: new Promise<number>((resolve) => (settle = resolve)),
    exitCode: null,
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (proc.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (proc.stderr += s));
  child.stdin!.on('error', () => {}); // the process may exit before we write to it
  child.on('error', (err) => {
    proc.stderr += `spawn failed: ${err.message}\n`;
    proc.exitCode = 127;
    running.delete(proc);
    settle(127);
  });
  child.on('exit', (code, signal) => {
    proc.exitCode = code ?? 128 + (signal ? osSignal(signal) : 0);
    running.delete(proc);
    settle(proc.exitCode);
  });
  if (proc.pid > 0) running.add(proc);
  return proc;
}

function osSignal(name: NodeJS.Signals): number {
  return ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[name] ?? 0;
}

/** Waits for the process to exit, or kills it after `ms`. Returns its exit code. */
export async function waitExit(p: Proc, ms: number): Promise<number> {
  // ref: false — a pending timeout must not keep the runner alive after the process exited.
  const timer = sleep(ms, undefined, { ref: false }).then(() => 'timeout' as const);
  const r = await Promise.race([p.exited, timer]);
  if (r === 'timeout') {
    await stop(p);
    throw new Error(`${p.name} did not finish within ${Math.round(ms / 1000)} s`);
  }
  return r;
}

/** Waits until stdout contains `text` (or the process exits, or `ms` passes). */
export async function waitOutput(p: Proc, text: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!p.stdout.includes(text)) {
    if (p.exitCode !== null)
      throw new Error(
        `${p.name} exited (${p.exitCode}) before printing "${text}": ${p.stderr.trim().slice(-400)}`,
      );
    if (Date.now() > until) throw new Error(`${p.name} did not print "${text}" within ${ms} ms`);
    await sleep(10);
  }
}

/**
 * Stops a process and every process under it: SIGTERM (or `signal`) to the root, up to
 * `graceMs` for the tree to exit, then SIGKILL for whatever is left. The tree is read before
 * the root is signalled, so nginx's worker is found even after its master is gone.
 */
export async function stop(
  p: Proc,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 2000,
): Promise<void> {
  if (p.exitCode !== null) return;
  const pids = treePids(p.pid);
  try {
    process.kill(p.pid, signal);
  } catch {
    /* already gone */
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until && pids.some(alive)) await sleep(20);
  for (const pid of pids) {
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* raced with its exit */
      }
    }
  }
  await Promise.race([p.exited, sleep(2000, undefined, { ref: false })]);
}

/** Kills every process still running (the runner's finally block and signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => stop(p, 'SIGTERM', 1000)));
}

/** Synchronous last resort for process.on('exit'): SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const p of running) {
    for (const pid of treePids(p.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** A port on 127.0.0.1 that is free right now, outside the ephemeral range (32768-60999) so
 *  that no client socket of the bench can be holding it. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}

/** Resolves once 127.0.0.1:port accepts a connection (the probe is closed at once). */
export async function waitForPort(port: number, p: Proc, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (p.exitCode !== null)
      throw new Error(
        `${p.name} exited (${p.exitCode}) while starting: ${p.stderr.trim().slice(-400)}`,
      );
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until)
      throw new Error(`${p.name} did not accept on port ${port} within ${ms} ms`);
    await sleep(25);
  }
}

/** Pins this runner (all its threads) to the load CPU, away from the server's. */
export function pinSelf(): void {
  if (hasTaskset)
    spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], {
      stdio: 'ignore',
    });
}
