/**
 * The targets for wasmloop, evaluated against a run's results. A target is met, not
 * met, or (when a figure it needs is missing) not evaluated; none of them fails the bench.
 */
import type { IdleResult, Results, ScenarioResult, TargetResult } from './model.ts';
import { cell, f2, ratio, ratioTarget, RATIO_TARGETS } from './ratio-targets.ts';

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
