/**
 * Memory per idle connection: the server's RSS fresh (started, one probe connection made and
 * closed) and with `conns` idle connections open, each of which made one round trip first
 * (bench/c/idle-conns.c). KiB per idle connection = (idle RSS - fresh RSS) / conns.
 * RSS is VmRSS summed over the server's process tree (nginx: master + worker). Servers run with
 * their idle timeouts off (ServerDef.command keepIdle), and the measurement is refused if the
 * server holds fewer descriptors than there are connections.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorLine, say } from './log.ts';
import { fdCount, rssKiB } from './measure.ts';
import type { IdleResult } from './model.ts';
import { freePort, LOAD_CPU, start, stop, waitOutput } from './procs.ts';
import { startServer, stopServer, type RunningServer, type ServerDef } from './servers.ts';

/** The idle-memory run of every available server (HTTP first, then echo; not those whose
 *  ServerDef says inIdle: false), each started fresh with its idle timeouts off. */
export async function idleRuns(
  defs: ServerDef[],
  idleBin: string,
  conns: number,
  settleMs: number,
  root: string,
): Promise<IdleResult[]> {
  const idle: IdleResult[] = [];
  for (const def of [
    ...defs.filter((d) => d.kind === 'http'),
    ...defs.filter((d) => d.kind === 'echo'),
  ]) {
    if (def.unavailable || def.inIdle === false) continue;
    try {
      const server = await startServer(def, await freePort(), root, true);
      try {
        const r = await idleMemory(idleBin, server, conns, settleMs);
        idle.push(r);
        say(
          `idle ${def.kind} ${def.label}: ${(r.rssFreshKiB! / 1024).toFixed(1)} MiB fresh, ${(r.rssIdleKiB! / 1024).toFixed(1)} MiB with ${r.conns} idle, ${r.kibPerConn!.toFixed(2)} KiB/conn`,
        );
      } finally {
        await stopServer(server);
      }
    } catch (err) {
      idle.push(failedIdle(def, conns, errorLine(err)));
      say(`idle ${def.kind} ${def.label}: FAILED: ${errorLine(err)}`);
    }
  }
  return idle;
}

function failedIdle(def: ServerDef, conns: number, error: string): IdleResult {
  const { kind, id: server, label } = def;
  return {
    kind,
    server,
    label,
    conns,
    rssFreshKiB: null,
    rssIdleKiB: null,
    kibPerConn: null,
    error,
  };
}

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
