/**
 * CPU time of one thread of this process, read from /proc/self/task/TID/stat, for tests that
 * check a thread sleeps rather than spins. Whole-process figures (process.cpuUsage) also count
 * V8's compiler and GC threads and whatever an earlier test left running on another thread, so
 * a check on them fails under load for reasons that are not the code under test.
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of thread `tid` (default: the main thread) in ms, at 10 ms resolution. */
export function threadCpuMs(tid = process.pid): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is
  // field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
