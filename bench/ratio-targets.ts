/**
 * The targets that compare one server's figure with another's in the same run (bench/targets.ts
 * evaluates them with the others): wasmloop against C and node:http, the libuv driver, hello and
 * the SDK app (issue 12), HTTPS against nginx.
 */
import type {
  Results,
  ScenarioResult,
  Summary,
  SyscallResult,
  FullSpeedSyscalls,
  TargetResult,
} from './model.ts';

export function cell(
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

export const f2 = (x: number) => x.toFixed(2);

/** wasmloop's figure over the other's, against a limit on the ratio. */
export function ratio(
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
export const RATIO_TARGETS: RatioTarget[] = [
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
  // Issue 12's "no regression" for hello (server wasmloop) and its targets for the SDK app
  // (greet.wasm, server wasmloop-sdk): requests per server-CPU-second against C's.
  ...['http-50', 'http-500', 'http-pipe16-50'].map((id) => ({
    scenario: id,
    name: `${id}: hello requests per CPU-second >= 0.95 x C`,
    figure: perCpuSecond,
    unit: 'k req/CPU-s',
    other: 'c',
    otherLabel: 'C',
    limit: 0.95,
    atMost: false,
  })),
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

export function ratioTarget(r: Results, t: RatioTarget): TargetResult {
  const figureOf = (server: string) => {
    const summary = cell(r, t.scenario, server)?.summary;
    return summary ? t.figure(summary) : undefined;
  };
  const ours = figureOf(t.server ?? 'wasmloop');
  const theirs = figureOf(t.other);
  const result = ratio(t.name, ours, theirs, t.limit, t.unit, t.atMost, t.otherLabel);
  // The SDK app beside hello, the hand-written guest, in the same run: what the SDK costs over
  // the least a guest does, whatever the machine does to both ratios to C.
  const hello = figureOf('wasmloop');
  if (t.server === 'wasmloop-sdk' && result.met !== null && ours && hello)
    result.detail += `; hello ${f2(hello)} ${t.unit}, SDK app / hello ${(ours / hello).toFixed(3)}`;
  return result;
}
