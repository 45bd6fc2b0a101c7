/**
 * The targets for wasmloop, evaluated against a run's results. A target is met, not
 * met, or (when a figure it needs is missing) not evaluated; none of them fails the bench.
 */
import type {
  FullSpeedSyscalls,
  Results,
  ScenarioResult,
  Summary,
  SyscallResult,
  TargetResult,
} from './model.ts';

function cell(
  r: Results,
  scenario: string,
  server: string,
): {
  summary: Summary | null;
  syscalls: SyscallResult | null;
  fullSpeed: FullSpeedSyscalls | null;
} | null {
  const s: ScenarioResult | undefined = r.scenarios.find((x) => x.id === scenario);
  return s?.cells.find((c) => c.server === server) ?? null;
}

const f2 = (x: number) => x.toFixed(2);

/** wasmloop's figure over the other's, against a limit on the ratio. */
function ratio(
  name: string,
  ours: number | undefined,
  theirs: number | undefined,
  limit: number,
  unit: string,
  atMost: boolean,
  other: string,
): TargetResult {
  if (
    ours === undefined ||
    theirs === undefined ||
    !Number.isFinite(ours) ||
    !Number.isFinite(theirs) ||
    theirs <= 0
  ) {
    return { name, met: null, detail: 'not measured in this run' };
  }
  const q = ours / theirs;
  const met = atMost ? q <= limit : q >= limit;
  return {
    name,
    met,
    detail: `wasmloop ${f2(ours)} ${unit} vs ${other} ${f2(theirs)} ${unit}: ${q.toFixed(3)}x (limit ${atMost ? '<=' : '>='} ${limit}x)`,
  };
}

export function evaluateTargets(r: Results): TargetResult[] {
  const out: TargetResult[] = [];
  for (const id of ['http-50', 'http-500']) {
    const w = cell(r, id, 'wasmloop')?.summary?.cpuUsPerReq;
    out.push(
      ratio(
        `${id}: CPU/request <= 1.15 x C`,
        w,
        cell(r, id, 'c')?.summary?.cpuUsPerReq,
        1.15,
        'us',
        true,
        'C',
      ),
    );
    out.push(
      ratio(
        `${id}: CPU/request <= 0.3 x node:http`,
        w,
        cell(r, id, 'node')?.summary?.cpuUsPerReq,
        0.3,
        'us',
        true,
        'node:http',
      ),
    );
  }
  {
    const id = 'http-pipe16-50';
    const w = cell(r, id, 'wasmloop')?.summary?.rate;
    const c = cell(r, id, 'c')?.summary?.rate;
    out.push(
      ratio(
        `${id}: throughput >= 0.8 x C`,
        w && w / 1000,
        c && c / 1000,
        0.8,
        'k req/s',
        false,
        'C',
      ),
    );
  }
  for (const id of ['echo-1', 'echo-50', 'echo-500']) {
    out.push(
      ratio(
        `${id}: CPU/message <= 1.10 x C`,
        cell(r, id, 'wasmloop')?.summary?.cpuUsPerReq,
        cell(r, id, 'c')?.summary?.cpuUsPerReq,
        1.1,
        'us',
        true,
        'C',
      ),
    );
  }
  // Syscalls: judged on the strace count (the method); the full-speed perf count is
  // shown beside it, since strace's slowdown makes every server batch more per epoll_wait.
  for (const s of r.scenarios) {
    const w = cell(r, s.id, 'wasmloop');
    const c = cell(r, s.id, 'c');
    const name = `${s.id}: syscalls/request <= C + 0.1`;
    const full =
      w?.fullSpeed && c?.fullSpeed
        ? `; at full speed wasmloop ${f2(w.fullSpeed.perRequest)} vs C ${f2(c.fullSpeed.perRequest)}`
        : '';
    if (!w?.syscalls || !c?.syscalls)
      out.push({ name, met: null, detail: 'not counted in this run' });
    else
      out.push({
        name,
        met: w.syscalls.perRequest <= c.syscalls.perRequest + 0.1,
        detail: `strace: wasmloop ${f2(w.syscalls.perRequest)} vs C ${f2(c.syscalls.perRequest)} (limit ${f2(c.syscalls.perRequest + 0.1)})${full}`,
      });
  }
  for (const s of r.scenarios.filter((x) => x.kind === 'http')) {
    const w = cell(r, s.id, 'wasmloop');
    const name = `${s.id}: zero epoll_ctl per keep-alive request`;
    const counts: string[] = [];
    let calls = 0;
    if (w?.syscalls) {
      const k = Math.round(w.syscalls.epollCtlPerRequest * w.syscalls.requests);
      calls += k;
      counts.push(`strace: ${k} over ${w.syscalls.requests} requests`);
    }
    if (w?.fullSpeed) {
      const k = Math.round(w.fullSpeed.epollCtlPerRequest * w.fullSpeed.requests);
      calls += k;
      counts.push(`full speed: ${k} over ${w.fullSpeed.requests} requests`);
    }
    if (counts.length === 0) out.push({ name, met: null, detail: 'not counted in this run' });
    else out.push({ name, met: calls === 0, detail: `epoll_ctl calls — ${counts.join('; ')}` });
  }
  for (const i of r.idle.filter((x) => x.server === 'wasmloop')) {
    const name = `${i.kind === 'http' ? 'hello' : 'echo'}.wasm: <= 1 KiB RSS per idle connection`;
    if (i.kibPerConn === null) out.push({ name, met: null, detail: i.error ?? 'not measured' });
    else
      out.push({
        name,
        met: i.kibPerConn <= 1,
        detail: `${f2(i.kibPerConn)} KiB per connection over ${i.conns} idle connections`,
      });
  }
  out.push(...sdkTargets(r));
  return out;
}

/** The SDK app (issue 12): requests per server-CPU-second against C's, and idle memory. */
const SDK_TARGETS: Array<[scenario: string, limit: number]> = [
  ['http-50', 0.95],
  ['http-500', 0.95],
  ['http-pipe16-50', 0.8],
];

function sdkTargets(r: Results): TargetResult[] {
  const perCpuSecond = (us: number | undefined) => (us ? 1e6 / us / 1000 : undefined);
  const out = SDK_TARGETS.map(([id, limit]) =>
    ratio(
      `${id}: SDK app requests per CPU-second >= ${limit} x C`,
      perCpuSecond(cell(r, id, 'wasmloop-sdk')?.summary?.cpuUsPerReq),
      perCpuSecond(cell(r, id, 'c')?.summary?.cpuUsPerReq),
      limit,
      'k req/CPU-s',
      false,
      'C',
    ),
  );
  for (const i of r.idle.filter((x) => x.server === 'wasmloop-sdk')) {
    const name = 'greet.wasm (SDK app): <= 256 B RSS per idle connection';
    if (i.kibPerConn === null) out.push({ name, met: null, detail: i.error ?? 'not measured' });
    else
      out.push({
        name,
        met: i.kibPerConn * 1024 <= 256,
        detail: `${(i.kibPerConn * 1024).toFixed(0)} B per connection over ${i.conns} idle connections`,
      });
  }
  return out;
}
