/**
 * The Markdown report (printed, and written to bench/results/latest.md) and the JSON one.
 */
import type { Cell, Results, ScenarioResult } from './model.ts';
import { IDLE_BASE_CONNS } from './idle.ts';

const dash = '—';
/** Above this, something besides the load generator (at most 100% of a core) was running. */
const NOISY_PCT = 115;

function rate(x: number, unit: string): string {
  if (!Number.isFinite(x)) return dash;
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M ${unit}/s` : `${(x / 1e3).toFixed(1)} k ${unit}/s`;
}

function latency(us: number | null): string {
  if (us === null || !Number.isFinite(us)) return dash;
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}

function n(x: number | undefined | null, digits: number): string {
  return x === undefined || x === null || !Number.isFinite(x) ? dash : x.toFixed(digits);
}

/** The three commonest syscalls per request, e.g. "recvfrom 1.00, sendto 1.00, epoll_wait 0.21". */
function mix(c: Cell): string {
  if (!c.syscalls) return dash;
  return Object.entries(c.syscalls.byName)
    .slice(0, 4)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

function timedRows(s: ScenarioResult): string[] {
  const c = s.cells.find((x) => x.server === 'c')?.summary?.cpuUsPerReq;
  return s.cells.map((cell) => {
    const m = cell.summary;
    if (!m)
      return `| ${s.title} | ${cell.label} | ${cell.skipped ?? cell.runs.find((r) => r.error)?.error ?? 'no successful run'} |||||||`;
    const vsC = c ? `${(m.cpuUsPerReq / c).toFixed(2)}x` : dash;
    const spread = m.runs > 1 ? ` (${n(m.cpuUsMin, 2)}–${n(m.cpuUsMax, 2)})` : '';
    return (
      `| ${s.title} | ${cell.label} | ${rate(m.rate, s.unit)} | ${latency(m.p50Us)} | ${latency(m.p99Us)} | ` +
      `**${n(m.cpuUsPerReq, 2)}**${spread} | ${vsC} | ${n(m.userUsPerReq, 2)} / ${n(m.sysUsPerReq, 2)} | ${n(m.serverCpuPct, 0)}% | ${n(m.otherCpuPct, 0)}%${m.otherCpuPct > NOISY_PCT ? ' †' : ''} |`
    );
  });
}

function syscallRows(s: ScenarioResult): string[] {
  return s.cells
    .filter((cell) => !cell.skipped)
    .map((cell) => {
      const sc = cell.syscalls;
      const fs = cell.fullSpeed;
      const strace = sc
        ? n(sc.perRequest, 2)
        : cell.syscallError
          ? `error: ${cell.syscallError}`
          : dash;
      return (
        `| ${s.title} | ${cell.label} | ${strace} | ${sc ? n(sc.epollCtlPerRequest, 3) : dash} | ${mix(cell)} | ` +
        `${fs ? n(fs.perRequest, 2) : cell.fullSpeedError ? `error: ${cell.fullSpeedError}` : dash} | ${fs ? n(fs.epollWaitsPerRequest, 3) : dash} | ${fs ? n(fs.epollCtlPerRequest, 3) : dash} |`
      );
    });
}

function timedSection(r: Results): string[] {
  const lines = [
    `Server pinned to CPU 0, load generator to CPU 1. ${r.config.reps} run(s) per server and scenario, ` +
      `${r.config.warmSec} s warm-up + ${r.config.measureSec} s measured, servers alternating; medians shown ` +
      `(CPU/request: median, with the min–max over the runs when there are several).`,
    '',
    '| scenario | server | throughput | p50 | p99 | CPU µs/req | × C | usr / sys µs | server CPU | rest of machine |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of r.scenarios) {
    if (s.skipped) lines.push(`| ${s.title} | ${dash} | skipped: ${s.skipped} |||||||`);
    else lines.push(...timedRows(s));
  }
  lines.push('');
  if (
    r.scenarios.some((s) => s.cells.some((c) => c.summary && c.summary.otherCpuPct > NOISY_PCT))
  ) {
    lines.push(
      `† the rest of the machine (the load generator, at most 100% of a core, plus anything else) used more than ${NOISY_PCT}% of a core during the measured windows: other processes competed with the server and the load generator, so throughput and latency of that row are disturbed; CPU per request much less so.`,
      '',
    );
  }
  return lines;
}

function syscallSection(r: Results): string[] {
  const counted = r.scenarios.filter(
    (s) => !s.skipped && s.cells.some((c) => c.syscalls || c.fullSpeed || c.syscallError),
  );
  if (counted.length === 0) return [];
  return [
    `Syscalls per request, over a fixed number of requests with connection setup and teardown excluded: ` +
      `strace -c over ${r.config.straceRequests} requests (slowed down by strace), and perf stat on the syscall ` +
      `tracepoints over about ${r.config.perfSeconds} s of requests at full speed.`,
    '',
    '| scenario | server | syscalls/req (strace) | epoll_ctl/req | commonest (strace) | syscalls/req (full speed) | epoll waits/req (full speed) | epoll_ctl/req (full speed) |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...counted.flatMap(syscallRows),
    '',
  ];
}

function idleSection(r: Results): string[] {
  if (r.idle.length === 0) return [];
  const mib = (k: number | null) => (k === null ? dash : `${(k / 1024).toFixed(1)} MiB`);
  const k = (conns: number) => conns.toLocaleString('en');
  return [
    `| idle connections | server | RSS fresh | RSS with ${k(IDLE_BASE_CONNS)} idle | with ${k(IDLE_BASE_CONNS + r.config.idleConns)} idle | KiB per idle connection (the last ${k(r.config.idleConns)}) |`,
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...r.idle.map(
      (i) =>
        `| ${i.kind} | ${i.label} | ${mib(i.rssFreshKiB)} | ${mib(i.rssBaseKiB)} | ${mib(i.rssIdleKiB)} | ${i.error ? `error: ${i.error}` : `**${n(i.kibPerConn, 2)}**${i.tries > 1 ? ` (try ${i.tries})` : ''}`} |`,
    ),
    '',
  ];
}

/** Targets, notes, and where and from what the run was made. */
function closingSection(r: Results): string[] {
  const lines = ['Targets (wasmloop):', ''];
  for (const t of r.targets) {
    const mark = t.met === null ? 'not evaluated' : t.met ? 'met' : 'NOT MET';
    lines.push(`- **${mark}** — ${t.name}: ${t.detail}`);
  }
  lines.push('');
  if (r.notes.length > 0) lines.push('Notes:', '', ...r.notes.map((note) => `- ${note}`), '');
  const pairs = (o: Record<string, string>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ');
  lines.push(`Machine: ${pairs(r.machine)}.`, '');
  lines.push(`Build: ${pairs(r.build)}.`, '');
  lines.push(`Elapsed: ${r.elapsedSec.toFixed(0)} s.`, '');
  return lines;
}

export function markdown(r: Results): string {
  return [
    `# wasmloop benchmarks — ${r.date} (${r.mode})`,
    '',
    ...timedSection(r),
    ...syscallSection(r),
    ...idleSection(r),
    ...closingSection(r),
  ].join('\n');
}

export function json(r: Results): string {
  return JSON.stringify(r, null, 2) + '\n';
}
