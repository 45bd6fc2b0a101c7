/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats), for the metrics tests. It throws on
 * anything the format does not allow: a last line without its line feed, a bad metric or
 * label name, a label value with an escape other than \\ \" \n, a value Go's ParseFloat
 * would not take, HELP or TYPE twice for a name, TYPE after a sample of its metric, a metric's
 * samples not kept together, the same series twice; and for a histogram, buckets that are not
 * cumulative in ascending `le`, a missing le="+Inf", or a _count unlike the +Inf bucket.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (e.g. `x_bucket` of histogram `x`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  /** Whether a TYPE line gave `type` (else it is untyped by default). */
  typed: boolean;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses `text`; every family by name, in the order they appear. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the last line must end with a line feed');
  const families = new Map<string, Family>();
  const seen = new Set<string>(); // series (name and labels) already given
  const finished = new Set<string>(); // families whose samples are over
  let current: string | undefined; // the family of the last sample
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    try {
      if (line.trim() === '') continue;
      if (line.startsWith('#')) {
        metadata(families, line, finished);
        continue;
      }
      const sample = parseSample(line);
      const family = familyOf(families, sample.name);
      if (family.name !== current) {
        if (finished.has(family.name)) throw new Error(`samples of ${family.name} are split`);
        if (current !== undefined) finished.add(current);
        current = family.name;
      }
      const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
      if (seen.has(key)) throw new Error(`series given twice: ${key}`);
      seen.add(key);
      family.samples.push(sample);
    } catch (err) {
      throw new Error(`line ${i + 1} '${line}': ${(err as Error).message}`);
    }
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** `# HELP name text`, `# TYPE name type`; other comments are ignored. */
function metadata(families: Map<string, Family>, line: string, finished: Set<string>): void {
  const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return;
  const [, what, name, rest = ''] = m as unknown as [string, string, string, string?];
  if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
  const f = families.get(name) ?? newFamily(name);
  if (finished.has(name) || f.samples.length > 0) throw new Error(`${what} after samples`);
  if (what === 'HELP') {
    if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
    if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error('bad escape in HELP');
    f.help = rest.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
  } else {
    if (f.typed) throw new Error(`second TYPE for ${name}`);
    if (!TYPES.has(rest.trim())) throw new Error(`unknown type '${rest}'`);
    f.type = rest.trim() as MetricType;
    f.typed = true;
  }
  families.set(name, f);
}

function newFamily(name: string): Family {
  return { name, type: 'untyped', help: undefined, typed: false, samples: [] };
}

/** `name{label="value",...} value [timestamp]`. */
export function parseSample(line: string): Sample {
  const m = /^([^\s{]+)[ \t]*(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(line);
  if (!m) throw new Error('not a sample line');
  const [, name, labelText, valueText] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
  if (!FLOAT.test(valueText)) throw new Error(`bad value ${valueText}`);
  const value = valueText.endsWith('Inf')
    ? valueText.startsWith('-')
      ? -Infinity
      : Infinity
    : Number(valueText);
  return { name, labels: parseLabels(labelText ?? ''), value };
}

/** `a="x",b="y"` (a trailing comma allowed); values unescaped. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /[ \t]*([^=\s]+)[ \t]*=[ \t]*"((?:[^"\\\n]|\\[\\"n])*)"[ \t]*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pair.lastIndex = at;
    const m = pair.exec(text);
    if (!m) throw new Error(`bad labels at '${text.slice(at)}'`);
    const [, name, raw] = m as unknown as [string, string, string];
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`bad label name ${name}`);
    if (name in labels) throw new Error(`label ${name} twice`);
    labels[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    at = pair.lastIndex;
  }
  return labels;
}

/** The family a sample belongs to: its own name, or a histogram's for _bucket/_sum/_count. */
function familyOf(families: Map<string, Family>, name: string): Family {
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  const h = base === undefined ? undefined : families.get(base);
  if (h && (h.type === 'histogram' || (h.type === 'summary' && !name.endsWith('_bucket'))))
    return h;
  const f = families.get(name) ?? newFamily(name);
  if (f.type === 'histogram') throw new Error(`histogram ${name} takes only _bucket/_sum/_count`);
  families.set(name, f);
  return f;
}

/** Per series (labels but `le`): cumulative buckets in ascending le, +Inf last, = _count. */
function checkHistogram(f: Family): void {
  const series = new Map<string, { les: number[]; counts: number[]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const h = series.get(key) ?? { les: [], counts: [] };
    series.set(key, h);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined || !FLOAT.test(le)) throw new Error(`${f.name}: bucket without le`);
      h.les.push(le === '+Inf' ? Infinity : Number(le));
      h.counts.push(s.value);
    } else if (s.name === `${f.name}_count`) h.count = s.value;
  }
  for (const [key, h] of series) {
    const where = `${f.name}${key}`;
    if (h.les.at(-1) !== Infinity) throw new Error(`${where}: no le="+Inf" bucket last`);
    for (let i = 1; i < h.les.length; i++) {
      if (!(h.les[i]! > h.les[i - 1]!)) throw new Error(`${where}: le not ascending`);
      if (h.counts[i]! < h.counts[i - 1]!) throw new Error(`${where}: buckets not cumulative`);
    }
    if (h.count !== h.counts.at(-1)) throw new Error(`${where}: _count is not the +Inf bucket`);
  }
}

/** The value of the one sample of `family` whose labels include `labels`. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`${matches.length} samples of ${name} match`);
  return matches[0]!.value;
}
