/**
 * What the bench reads from the kernel about a server: CPU time and RSS from /proc (summed over
 * the server's whole process tree, so nginx's worker and every Node thread count), and syscall
 * counts from `strace -c`.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (sysconf(_SC_CLK_TCK)). Linux
 *  reports these in USER_HZ, which is 100 on every architecture Node runs on. */
export const CLK_TCK = 100;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fields of /proc/PID/stat after the command name (which may contain spaces and parens):
 *  index 0 is field 3 (state), so field N of proc(5) is at index N - 3. */
function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** `root` and all its descendants that are alive now. */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const f = statFields(pid);
    if (f === null) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!alive(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface CpuTime {
  /** Seconds of user and system CPU time. */
  user: number;
  sys: number;
}

/**
 * CPU time used so far by the process tree under `root`: utime + stime (fields 14 and 15 of
 * /proc/PID/stat). For a process these already include every thread, live or exited; children
 * are separate processes and are summed explicitly. Resolution: 1/CLK_TCK = 10 ms.
 */
export function cpuTime(root: number): CpuTime {
  let user = 0;
  let sys = 0;
  for (const pid of treePids(root)) {
    const f = statFields(pid);
    if (f === null) continue;
    user += Number(f[14 - 3]);
    sys += Number(f[15 - 3]);
  }
  return { user: user / CLK_TCK, sys: sys / CLK_TCK };
}

/** Seconds of CPU time the whole machine spent busy so far, all CPUs together (/proc/stat:
 *  user + nice + system + irq + softirq + steal). */
export function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    CLK_TCK
  );
}

/** Resident set size of the process tree, KiB (VmRSS of /proc/PID/status, summed). */
export function rssKiB(root: number): number {
  let total = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/** Open descriptors of the process tree (entries of /proc/PID/fd, summed). */
export function fdCount(root: number): number {
  let n = 0;
  for (const pid of treePids(root)) {
    try {
      n += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      /* exited meanwhile */
    }
  }
  return n;
}

/** Syscall name -> calls, from the summary table `strace -c` writes. */
export type SyscallCounts = Record<string, number>;

/**
 * Parses `strace -c` output:
 *   % time     seconds  usecs/call     calls    errors syscall
 *   ------ ----------- ----------- --------- --------- ----------------
 *    52.10    0.010000           2      4000           sendto
 * The "total" line is skipped (the caller sums); errored calls count as calls (an EAGAIN recv
 * is a syscall made).
 */
export function parseStraceSummary(text: string): SyscallCounts {
  const out: SyscallCounts = {};
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 5 || !/^\d+\.\d+$/.test(t[0]!)) continue;
    const name = t[t.length - 1]!;
    if (name === 'total' || !/^[a-z_0-9]+$/.test(name)) continue;
    const calls = Number(t[3]);
    if (Number.isFinite(calls)) out[name] = (out[name] ?? 0) + calls;
  }
  return out;
}

export function sumCounts(c: SyscallCounts): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
