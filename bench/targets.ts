/**
 * The targets for wasmloop, evaluated against a run's results. A target is met, not
 * met, or (when a figure it needs is missing) not evaluated; none of them fails the bench.
 */
import type {
  FullSpeedSyscalls,
  IdleResult,
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

/** A target on the ratio of wasmloop's figure to another server's, in one scenario. */
interface RatioTarget {
  scenario: string;
  name: string;
  /** The wasmloop server measured (default `wasmloop`, the blocking driver). */
  server?: string;
  /** The figure compared, from a cell's summary, and its unit. */
  figure: (s: Summary) => number;
  unit: string;
  other: string;
  otherLabel: string;
  limit: number;
  /** true: the ratio must be at most `limit`; false: at least. */
  atMost: boolean;
}

const cpuPerRequest = (s: Summary) => s.cpuUsPerReq;
/** Requests per server-CPU-second, in thousands. */
const perCpuSecond = (s: Summary) => (s.cpuUsPerReq ? 1e6 / s.cpuUsPerReq / 1000 : NaN);
const kiloRate = (s: Summary) => s.rate / 1000;

/** The ratio targets, in the order they are reported. */
const RATIO_TARGETS: RatioTarget[] = [
  ...['http-50', 'http-500'].flatMap((id) => [
    {
      scenario: id,
      name: `${id}: CPU/request <= 1.15 x C`,
      figure: cpuPerRequest,
      unit: 'us',
      other: 'c',
      otherLabel: 'C',
      limit: 1.15,
      atMost: true,
    },
    {
      scenario: id,
      name: `${id}: CPU/request <= 0.3 x node:http`,
      figure: cpuPerRequest,
      unit: 'us',
      other: 'node',
      otherLabel: 'node:http',
      limit: 0.3,
      atMost: true,
    },
  ]),
  {
    scenario: 'http-pipe16-50',
    name: 'http-pipe16-50: throughput >= 0.8 x C',
    figure: kiloRate,
    unit: 'k req/s',
    other: 'c',
    otherLabel: 'C',
    limit: 0.8,
    atMost: false,
  },
  // The embedded driver (`--driver libuv`, server wasmloop-uv: full runs, or named with
  // --servers), CPU per message against C's.
  ...(
    [
      ['echo-1', 1.15],
      ['echo-50', 1.05],
    ] as const
  ).map(([id, limit]) => ({
    scenario: id,
    server: 'wasmloop-uv',
    name: `${id}: libuv driver CPU/message <= ${limit.toFixed(2)} x C`,
    figure: cpuPerRequest,
    unit: 'us',
    other: 'c',
    otherLabel: 'C',
    limit,
    atMost: true,
  })),
  // The SDK app (greet.wasm, server wasmloop-sdk): requests per server-CPU-second against C's.
  ...(
    [
      ['http-50', 0.95],
      ['http-500', 0.95],
      ['http-pipe16-50', 0.8],
    ] as const
  ).map(([id, limit]) => ({
    scenario: id,
    server: 'wasmloop-sdk',
    name: `${id}: SDK app requests per CPU-second >= ${limit} x C`,
    figure: perCpuSecond,
    unit: 'k req/CPU-s',
    other: 'c',
    otherLabel: 'C',
    limit,
    atMost: false,
  })),
  // Issue 15: HTTPS against nginx over TLS, same certificate, cipher and body (bench/tls.ts).
  ...(
    [
      ['https-50', 'CPU/request <= 1.0 x nginx', cpuPerRequest, 'us', 1, true],
      ['https-hs-50', 'handshakes/CPU-second >= 0.9 x nginx', perCpuSecond, 'k/CPU-s', 0.9, false],
    ] as const
  ).map(([scenario, what, figure, unit, limit, atMost]) => {
    const name = `${scenario}: ${what}`;
    return { scenario, name, figure, unit, other: 'nginx', otherLabel: 'nginx', limit, atMost };
  }),
  ...['echo-1', 'echo-50', 'echo-500'].map((id) => ({
    scenario: id,
    name: `${id}: CPU/message <= 1.10 x C`,
    figure: cpuPerRequest,
    unit: 'us',
    other: 'c',
    otherLabel: 'C',
    limit: 1.1,
    atMost: true,
  })),
];

/** Issue 14: the C poll() example as wasm32-wasi under `wasmloop run` against the same source
 *  built natively, CPU per message, with both syscall counts beside the ratio. */
function wasiTarget(r: Results, scenario: string): TargetResult {
  const wasi = cell(r, scenario, 'wasmloop-wasi');
  const native = cell(r, scenario, 'c-poll');
  const name = `${scenario}: WASI C echo CPU/message <= 1.25 x the same C native`;
  const target = ratio(
    name,
    wasi?.summary?.cpuUsPerReq,
    native?.summary?.cpuUsPerReq,
    1.25,
    'us',
    true,
    'native',
  );
  if (wasi?.syscalls && native?.syscalls)
    target.detail += `; syscalls/message (strace) ${f2(wasi.syscalls.perRequest)} vs native ${f2(native.syscalls.perRequest)}`;
  if (wasi?.fullSpeed && native?.fullSpeed)
    target.detail += `; at full speed ${f2(wasi.fullSpeed.perRequest)} vs ${f2(native.fullSpeed.perRequest)}`;
  return target;
}

function ratioTarget(r: Results, t: RatioTarget): TargetResult {
  const figureOf = (server: string) => {
    const summary = cell(r, t.scenario, server)?.summary;
    return summary ? t.figure(summary) : undefined;
  };
  const ours = figureOf(t.server ?? 'wasmloop');
  const theirs = figureOf(t.other);
  return ratio(t.name, ours, theirs, t.limit, t.unit, t.atMost, t.otherLabel);
}

/** HTTPS: syscalls per request reported beside the plain http-50 row and nginx over TLS, not
 *  judged: wrk's window (echo-load has no TLS) includes each connection's accept, handshake
 *  and close, which the plain rows exclude. */
function tlsSyscallTarget(r: Results, s: ScenarioResult): TargetResult {
  const name = `${s.id}: syscalls/request, beside plain http-50 and nginx over TLS`;
  const of = (id: string, server: string) => {
    const c = cell(r, id, server);
    const st = c?.syscalls ? f2(c.syscalls.perRequest) : '-';
    return `${st} (full speed ${c?.fullSpeed ? f2(c.fullSpeed.perRequest) : '-'})`;
  };
  if (!cell(r, s.id, 'wasmloop')?.syscalls) return { name, met: null, detail: 'not counted' };
  const detail = `strace: wasmloop ${of(s.id, 'wasmloop')}, nginx ${of(s.id, 'nginx')}, plain http-50 wasmloop ${of('http-50', 'wasmloop')}; connections included`;
  return { name, met: null, detail };
}

/** Syscalls: judged on the strace count (the method); the full-speed perf count is
 *  shown beside it, since strace's slowdown makes every server batch more per epoll_wait. */
function syscallTarget(r: Results, s: ScenarioResult): TargetResult {
  if (s.kind === 'https') return tlsSyscallTarget(r, s);
  const w = cell(r, s.id, 'wasmloop');
  const c = cell(r, s.id, 'c');
  const name = `${s.id}: syscalls/request <= C + 0.1`;
  const full =
    w?.fullSpeed && c?.fullSpeed
      ? `; at full speed wasmloop ${f2(w.fullSpeed.perRequest)} vs C ${f2(c.fullSpeed.perRequest)}`
      : '';
  if (!w?.syscalls || !c?.syscalls) return { name, met: null, detail: 'not counted in this run' };
  return {
    name,
    met: w.syscalls.perRequest <= c.syscalls.perRequest + 0.1,
    detail: `strace: wasmloop ${f2(w.syscalls.perRequest)} vs C ${f2(c.syscalls.perRequest)} (limit ${f2(c.syscalls.perRequest + 0.1)})${full}`,
  };
}

/** Keep-alive requests must not re-arm epoll: every count taken (strace, perf) must be 0. */
function epollCtlTarget(r: Results, s: ScenarioResult): TargetResult {
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
  if (counts.length === 0) return { name, met: null, detail: 'not counted in this run' };
  return { name, met: calls === 0, detail: `epoll_ctl calls — ${counts.join('; ')}` };
}

function idleTarget(i: IdleResult): TargetResult {
  const name = `${i.kind === 'http' ? 'hello' : 'echo'}.wasm: <= 1 KiB RSS per idle connection`;
  if (i.kibPerConn === null) return { name, met: null, detail: i.error ?? 'not measured' };
  return {
    name,
    met: i.kibPerConn <= 1,
    detail: `${f2(i.kibPerConn)} KiB per connection over ${i.conns} idle connections (on top of ${i.baseConns})`,
  };
}

/** The SDK app's idle connection (issue 12): at most 256 B of RSS. */
function sdkIdleTarget(i: IdleResult): TargetResult {
  const name = 'greet.wasm (SDK app): <= 256 B RSS per idle connection';
  if (i.kibPerConn === null) return { name, met: null, detail: i.error ?? 'not measured' };
  return {
    name,
    met: i.kibPerConn * 1024 <= 256,
    detail: `${(i.kibPerConn * 1024).toFixed(0)} B per connection over ${i.conns} idle connections (on top of ${i.baseConns})`,
  };
}

export function evaluateTargets(r: Results): TargetResult[] {
  return [
    ...RATIO_TARGETS.map((t) => ratioTarget(r, t)),
    ...['echo-1', 'echo-50'].map((id) => wasiTarget(r, id)),
    ...r.scenarios.map((s) => syscallTarget(r, s)),
    ...r.scenarios.filter((s) => s.kind === 'http').map((s) => epollCtlTarget(r, s)),
    ...r.idle.filter((i) => i.server === 'wasmloop').map(idleTarget),
    ...r.idle.filter((i) => i.server === 'wasmloop-sdk').map(sdkIdleTarget),
  ];
}
