/**
 * Memory per idle connection: what one more idle connection costs a server that already holds
 * many, the same way for every server (C, nginx, node, wasmloop).
 *
 * A fresh server is first given `base` idle connections (5,000) that stay open: whatever it
 * allocates once rather than per connection (malloc arenas of its threads, V8 heap pages, the
 * JIT of the request path, tables sized on first use) happens then. RSS is read; `conns` more
 * idle connections (10,000) are opened, each after one round trip (bench/c/idle-conns.c); RSS
 * is read again. KiB per idle connection = (second − first) / conns. Nothing is closed between
 * the readings, so memory a server keeps per connection is counted whether or not its
 * allocator would reuse freed blocks (wasm/test/keeps-1k.wasm, 1 KiB per connection, measures
 * about 1 KiB more than hello.wasm: the check row `wasmloop-keeps-1k`). Before this method
 * the figure was (RSS with 10,000 − fresh RSS) / 10,000, which the one-time growth dominated.
 *
 * RSS is VmRSS summed over the server's process tree (nginx: master + worker), sampled every
 * 100 ms from the first reading to the second. A Node server's RSS creeps up while it idles
 * (about 0.1 MiB/s) and falls by MiBs when V8 gives pages back; a fall of more than DROP_KIB
 * between two samples means the readings straddle such a release, so the measurement starts
 * again with a fresh server, at most TRIES times. Servers run with their idle timeouts off
 * (ServerDef.command keepIdle), and a server holding fewer descriptors than connections is
 * refused (one that closed idle connections would look lean).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorLine, say } from './log.ts';
import { fdCount, rssKiB } from './measure.ts';
import type { IdleResult } from './model.ts';
import { freePort, LOAD_CPU, start, stop, waitOutput, type Proc } from './procs.ts';
import { startServer, stopServer, wasmloopServer, type RunningServer } from './servers.ts';
import type { ServerContext, ServerDef } from './servers.ts';

/** The idle connections opened, and kept, before the first reading. */
export const IDLE_BASE_CONNS = 5000;
const DROP_KIB = 512;
const TRIES = 3;
const SAMPLE_MS = 100;

/** The method's check, in the idle runs only: hello.wasm's protocol holding 1 KiB of guest
 *  heap per connection (test/guests/keeps-1k.ts). It must measure ~1 KiB above hello. */
export function idleCheckServer(ctx: ServerContext): ServerDef {
  const variant = { id: 'wasmloop-keeps-1k', label: 'hello.wasm + 1 KiB per connection' };
  const def = wasmloopServer(ctx, 'http', 'wasm/test/keeps-1k.wasm', { ...variant, flags: [] });
  return { ...def, scenarios: [], inQuick: false };
}

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
      const r = await idleServer(def, { idleBin, conns, settleMs, root });
      idle.push(r);
      const mib = (k: number | null) => `${((k ?? 0) / 1024).toFixed(1)} MiB`;
      say(
        `idle ${def.kind} ${def.label}: ${mib(r.rssFreshKiB)} fresh, ${mib(r.rssBaseKiB)} with ${r.baseConns}, ${mib(r.rssIdleKiB)} with ${r.conns} more: ${r.kibPerConn!.toFixed(2)} KiB/conn${r.tries > 1 ? ` (try ${r.tries})` : ''}`,
      );
    } catch (err) {
      idle.push(failedIdle(def, conns, errorLine(err)));
      say(`idle ${def.kind} ${def.label}: FAILED: ${errorLine(err)}`);
    }
  }
  return idle;
}

interface IdleSetup {
  idleBin: string;
  conns: number;
  settleMs: number;
  root: string;
}

/** One server's figure: a fresh server per try, until a try is not disturbed. */
async function idleServer(def: ServerDef, su: IdleSetup): Promise<IdleResult> {
  for (let tries = 1; ; tries++) {
    const server = await startServer(def, await freePort(), su.root, true);
    try {
      const r = await idleMemory(su.idleBin, server, su.conns, su.settleMs);
      if (r.maxDropKiB <= DROP_KIB || tries === TRIES) return { ...r.result, tries };
      say(`idle ${def.label}: RSS fell ${r.maxDropKiB} KiB between two samples: again`);
    } finally {
      await stopServer(server);
    }
  }
}

function failedIdle(def: ServerDef, conns: number, error: string): IdleResult {
  const { kind, id: server, label } = def;
  return {
    kind,
    server,
    label,
    conns,
    baseConns: IDLE_BASE_CONNS,
    rssFreshKiB: null,
    rssBaseKiB: null,
    rssIdleKiB: null,
    kibPerConn: null,
    tries: 1,
    error,
  };
}

/** Opens `count` idle connections to `server` with a new idle-conns process (kept open). */
async function openIdle(idleBin: string, server: RunningServer, count: number): Promise<Proc> {
  const client = start('idle-conns', LOAD_CPU, idleBin, [
    ...['-p', String(server.port), '-n', String(count), '-m', server.def.kind],
  ]);
  try {
    await waitOutput(client, 'ready', 90_000);
  } catch (err) {
    await stop(client);
    throw err;
  }
  return client;
}

/** RSS sampled every SAMPLE_MS until stopped: the largest fall between two samples. */
function dropWatch(pid: number): { stop(): number } {
  let last = rssKiB(pid);
  let maxDrop = 0;
  const timer = setInterval(() => {
    const now = rssKiB(pid);
    maxDrop = Math.max(maxDrop, last - now);
    last = now;
  }, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return maxDrop;
    },
  };
}

export async function idleMemory(
  idleBin: string,
  server: RunningServer,
  conns: number,
  settleMs: number,
): Promise<{ result: Omit<IdleResult, 'tries'>; maxDropKiB: number }> {
  const pid = server.proc.pid;
  await sleep(settleMs);
  const rssFreshKiB = rssKiB(pid);
  const clients = [await openIdle(idleBin, server, IDLE_BASE_CONNS)];
  try {
    await sleep(settleMs);
    const rssBaseKiB = rssKiB(pid);
    const watch = dropWatch(pid);
    clients.push(await openIdle(idleBin, server, conns));
    await sleep(settleMs);
    const maxDropKiB = watch.stop();
    const rssIdleKiB = rssKiB(pid);
    const label = server.def.label;
    if (server.proc.exitCode !== null) throw new Error(`${label} exited with connections open`);
    const fds = fdCount(pid);
    if (fds < IDLE_BASE_CONNS + conns)
      throw new Error(`${label} holds only ${fds} descriptors: it closed idle connections`);
    const { kind, id } = server.def;
    const kibPerConn = (rssIdleKiB - rssBaseKiB) / conns;
    const baseConns = IDLE_BASE_CONNS;
    const result = {
      kind,
      server: id,
      label,
      conns,
      baseConns,
      rssFreshKiB,
      rssBaseKiB,
      rssIdleKiB,
      kibPerConn,
    };
    return { result, maxDropKiB };
  } finally {
    for (const c of clients) await stop(c);
  }
}
