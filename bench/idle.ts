/**
 * Memory per idle connection: the server's RSS fresh (started, one probe connection made and
 * closed) and with `conns` idle connections open, each of which made one round trip first
 * (bench/c/idle-conns.c). KiB per idle connection = (idle RSS - fresh RSS) / conns.
 * RSS is VmRSS summed over the server's process tree (nginx: master + worker). Servers run with
 * their idle timeouts off (ServerDef.command keepIdle), and the measurement is refused if the
 * server holds fewer descriptors than there are connections.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fdCount, rssKiB } from './measure.ts';
import type { IdleResult } from './model.ts';
import { LOAD_CPU, start, stop, waitOutput } from './procs.ts';
import type { RunningServer } from './servers.ts';

export async function idleMemory(
  idleBin: string,
  server: RunningServer,
  conns: number,
  settleMs: number,
): Promise<IdleResult> {
  await sleep(settleMs);
  const rssFreshKiB = rssKiB(server.proc.pid);
  const client = start('idle-conns', LOAD_CPU, idleBin, [
    '-p',
    String(server.port),
    '-n',
    String(conns),
    '-m',
    server.def.kind,
  ]);
  try {
    await waitOutput(client, 'ready', 90_000);
    await sleep(settleMs);
    if (server.proc.exitCode !== null)
      throw new Error(`${server.def.label} exited with ${conns} connections open`);
    const rssIdleKiB = rssKiB(server.proc.pid);
    // The server must still hold every connection: one that closed idle ones would look lean.
    const fds = fdCount(server.proc.pid);
    if (fds < conns)
      throw new Error(
        `${server.def.label} holds only ${fds} descriptors: it closed idle connections`,
      );
    return {
      kind: server.def.kind,
      server: server.def.id,
      label: server.def.label,
      conns,
      rssFreshKiB,
      rssIdleKiB,
      kibPerConn: (rssIdleKiB - rssFreshKiB) / conns,
    };
  } finally {
    await stop(client);
  }
}
