/**
 * The Prometheus text exposition format (version 0.0.4) of a loop's counters: what
 * `loop.metrics()` returns and `--metrics` serves (host/metrics-server.ts).
 *
 * Written directly rather than with prom-client: every value already exists when a scrape
 * comes (the guest's stats area, the host's counters, the slice histogram the loop keeps; a
 * worker pool's shared buffers, host/driver/worker-protocol.ts), so a registry would only be
 * filled from them at each scrape, and prom-client's Histogram can only `observe()`, not take
 * bucket counts kept elsewhere. Nothing here runs on the request path.
 *
 * Per the format: each metric's HELP and TYPE lines once, before its samples, which stay
 * together (every worker's sample of a metric follows the one before); a histogram's buckets are
 * cumulative and end with le="+Inf", equal to its _count.
 */
import { ERRNO_NAMES, type ErrnoName } from './abi.ts';
import { SLICE_BOUNDS_S, TRAP_CAUSES, type LoopMetrics } from './guest/loop-metrics.ts';
import type { LoopStats } from './guest/loop-options.ts';

/** One loop's metrics; `worker` (a pool's slot index) becomes the `worker` label. */
export interface MetricsSource {
  worker?: number;
  metrics: LoopMetrics;
}

type Labels = Record<string, string>;
type Sample = [suffix: string, labels: Labels, value: number];

interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: (m: LoopMetrics) => Sample[];
}

/** A plain series from one of the counters stats() has. */
function stat(name: string, type: 'counter' | 'gauge', key: keyof LoopStats, help: string): Family {
  return { name, type, help, samples: (m) => [['', {}, m.stats[key]]] };
}

/** A series with one sample per value of `label`. */
function labelled(
  name: string,
  help: string,
  label: string,
  values: (m: LoopMetrics) => [string, number][],
): Family {
  const samples = (m: LoopMetrics) => values(m).map(([v, n]): Sample => ['', { [label]: v }, n]);
  return { name, type: 'counter', help, samples };
}

/** The histogram's samples: cumulative buckets, then _sum and _count. */
function sliceSamples(m: LoopMetrics): Sample[] {
  const out: Sample[] = [];
  let total = 0;
  m.slices.counts.forEach((n, i) => {
    total += n;
    const bound = SLICE_BOUNDS_S[i];
    out.push(['_bucket', { le: bound === undefined ? '+Inf' : String(bound) }, total]);
  });
  out.push(['_sum', {}, m.slices.sumSeconds], ['_count', {}, total]);
  return out;
}

const TRAP_BUDGET = 'max-traps-per-peer-minute';

/** The errnos whose accept error series are always written, 0 until one happens (so that a
 *  rate over them starts at once): running out of descriptors or memory, a peer gone before
 *  accept, a firewall's refusal, a protocol error. Any other errno is written once it happens. */
const ACCEPT_ERRNOS: readonly ErrnoName[] = [
  'EMFILE',
  'ENFILE',
  'ENOBUFS',
  'ENOMEM',
  'ECONNABORTED',
  'EPERM',
  'EPROTO',
];

function acceptErrorSamples(m: LoopMetrics): [string, number][] {
  return ERRNO_NAMES.map((name, i): [ErrnoName, number] => [name, m.acceptErrors[i] ?? 0]).filter(
    ([name, n]) => n > 0 || ACCEPT_ERRNOS.includes(name),
  );
}

/** Every series, in the order they are written. */
const FAMILIES: Family[] = [
  stat('wasmloop_connections_accepted_total', 'counter', 'accepted', 'Connections accepted.'),
  stat('wasmloop_connections_closed_total', 'counter', 'closed', 'Connections closed.'),
  stat('wasmloop_connections_open', 'gauge', 'open', 'Connections open now.'),
  stat(
    'wasmloop_requests_total',
    'counter',
    'requests',
    'Protocol units handled (HTTP requests, echo reads, frames).',
  ),
  stat('wasmloop_received_bytes_total', 'counter', 'bytesIn', 'Bytes received from peers.'),
  stat('wasmloop_sent_bytes_total', 'counter', 'bytesOut', 'Bytes sent to peers.'),
  labelled(
    'wasmloop_accept_errors_total',
    'Failed accept(2) calls, by errno (EAGAIN, no connection waiting, is not one).',
    'errno',
    acceptErrorSamples,
  ),
  stat(
    'wasmloop_protocol_errors_total',
    'counter',
    'protocolErrors',
    'Connections closed for malformed input.',
  ),
  stat(
    'wasmloop_timeouts_total',
    'counter',
    'timeouts',
    'Connections closed by an idle, protocol or linger deadline.',
  ),
  stat(
    'wasmloop_buffers_in_use',
    'gauge',
    'buffersInUse',
    'Pooled I/O buffers lent to connections now.',
  ),
  labelled('wasmloop_traps_total', 'Guest instances ended, by cause.', 'cause', (m) =>
    TRAP_CAUSES.map((c) => [c, m.traps[c]]),
  ),
  stat('wasmloop_restarts_total', 'counter', 'restarts', 'Guest instances or workers restarted.'),
  labelled(
    'wasmloop_reloads_total',
    'Reloads to a new guest module, by result (failed: the old instance served on).',
    'result',
    (m) => [
      ['ok', m.reloads.ok],
      ['failed', m.reloads.failed],
    ],
  ),
  labelled(
    'wasmloop_limit_rejections_total',
    'Connections the host closed because a limit refused their peer, by limit.',
    'limit',
    (m) => [[TRAP_BUDGET, m.stats.connectionsRefused]],
  ),
  labelled(
    'wasmloop_peers_blocked_total',
    'Times a peer was blocked for reaching a limit, by limit.',
    'limit',
    (m) => [[TRAP_BUDGET, m.stats.peersBlocked]],
  ),
  {
    name: 'wasmloop_slice_duration_seconds',
    type: 'histogram',
    help: 'Time from a wl_dispatch call to the driver taking the thread back.',
    samples: sliceSamples,
  },
];

/** The exposition text of `sources` (one per loop; a pool's carry `worker`). */
export function renderMetrics(sources: MetricsSource[]): string {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const src of sources) {
      const worker: Labels = src.worker === undefined ? {} : { worker: String(src.worker) };
      for (const [suffix, labels, value] of f.samples(src.metrics))
        lines.push(`${f.name}${suffix}${formatLabels({ ...worker, ...labels })} ${value}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `{a="x",b="y"}`, or nothing without labels; values escaped as the format says. */
function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** The counters of several loops added up (a pool's stats()). */
export function sumStats(all: LoopStats[]): LoopStats {
  const out = { ...all[0]! };
  for (const s of all.slice(1))
    for (const k of Object.keys(out) as (keyof LoopStats)[]) out[k] += s[k];
  return out;
}
