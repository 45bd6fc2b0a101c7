/**
 * A V8 .cpuprofile (node --cpu-prof) turned into time per request: self time per function and
 * per category, and inclusive time per function. Used by bench/profile.ts.
 *
 * V8 has no frame for an N-API callback: the time of recv/send/epollWait, and of the syscalls
 * they make, is self time of the JS function that called them (host/guest/instance.ts's hostcalls,
 * host/guest/loop.ts's tick/wait). With the blocking driver that includes time asleep in epoll_wait.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const NAPI = new Set([
  'recv',
  'send',
  'epollWait',
  'epollCtl',
  'accept',
  'close',
  'shutdown',
  'pollStart',
  'pollStop',
  'listen',
  'localAddress',
  'epollCreate',
]);

/** host/x.ts for a line of the bundle, from esbuild's "// host/x.ts" section markers. */
function hostFileOf(bundle: string[], line: number): string {
  for (let i = Math.min(line, bundle.length - 1); i >= 0; i--) {
    const m = /^\/\/ (host\/\S+\.ts)$/.exec(bundle[i]!);
    if (m) return m[1]!;
  }
  return 'dist bundle';
}

function category(f: CallFrame): string {
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)')
    return '(program): native outside JS — libuv, uv_poll callback entry, V8 runtime';
  if (
    f.url.startsWith('wasm://') ||
    f.functionName.startsWith('$') ||
    f.functionName.includes('wasm-function')
  )
    return 'guest wasm';
  if (f.url === '' && NAPI.has(f.functionName)) return 'N-API shim calls';
  if (/dist\/(cli|index|worker)\.js/.test(f.url))
    return 'host JS frames (incl. the N-API calls and syscalls they make)';
  if (f.url.startsWith('node:') || f.url === '') return 'Node internals / other native';
  return 'other JS';
}

/** A frame's row in the function table: name and where it is (host file, guest, module). */
function frameLabel(f: CallFrame, bundle: string[], wasmName: (s: string) => string): string {
  const dist = /dist\/(cli|worker)\.js/.exec(f.url);
  if (dist)
    return `${f.functionName || '(anonymous)'} — ${hostFileOf(bundle, f.lineNumber)} (${dist[0]}:${f.lineNumber + 1})`;
  if (f.url.startsWith('wasm://')) return `${wasmName(f.functionName)} — guest wasm`;
  return `${f.functionName || '(anonymous)'}${f.url ? ` — ${f.url.replace(/^file:\/\/.*\/node_modules\//, '')}:${f.lineNumber + 1}` : ''}`;
}

/** Self time per node id: each sample's time is the time until the next sample. */
function selfTimes(prof: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0; // the time until the next sample was spent here
    self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + dt);
  }
  return self;
}

/** Adds `t` to `key`'s sum in `m`. */
function add<K>(m: Map<K, number>, key: K, t: number): void {
  m.set(key, (m.get(key) ?? 0) + t);
}

/** Inclusive time per label, each label counted once per stack (recursion). */
function inclusiveTimes(
  prof: CpuProfile,
  self: Map<number, number>,
  labelOf: (n: ProfileNode) => string,
): Map<string, number> {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const fnTotal = new Map<string, number>();
  const inclusive = (id: number, onStack: Set<string>) => {
    const n = byId.get(id)!;
    const k = labelOf(n);
    if (!onStack.has(k)) add(fnTotal, k, self.get(id) ?? 0);
    const next = new Set(onStack).add(k);
    for (const c of n.children ?? []) inclusive(c, next);
  };
  inclusive(prof.nodes[0]!.id, new Set());
  return fnTotal;
}

/**
 * Markdown lines: categories and the top `limit` functions by self time, in µs per request.
 * `bundle` is the profiled thread's bundle (dist/cli.js or dist/worker.js) split into lines; `wasmName` names guest functions.
 */
export function cpuProfileMarkdown(
  prof: CpuProfile,
  requests: number,
  bundle: string[],
  wasmName: (s: string) => string,
  limit = 25,
): string[] {
  const self = selfTimes(prof);
  const labelOf = (n: ProfileNode) => frameLabel(n.callFrame, bundle, wasmName);
  const fnSelf = new Map<string, number>();
  const cats = new Map<string, number>();
  for (const n of prof.nodes) {
    add(fnSelf, labelOf(n), self.get(n.id) ?? 0);
    add(cats, category(n.callFrame), self.get(n.id) ?? 0);
  }
  const fnTotal = inclusiveTimes(prof, self, labelOf);
  const busy = [...cats.entries()].filter(([c]) => c !== 'idle').reduce((a, [, v]) => a + v, 0);
  const us = (t: number) => (t / requests).toFixed(3); // profile times are microseconds
  const pct = (t: number) => `${((t / busy) * 100).toFixed(1)}%`;
  const lines = [
    `Profiled busy time: ${(busy / requests).toFixed(2)} µs/request (the profiler's own overhead is in it).`,
    '',
  ];
  lines.push('| category | µs/request | share of busy |', '| --- | ---: | ---: |');
  for (const [c, t] of [...cats.entries()]
    .filter(([c]) => c !== 'idle')
    .sort((a, b) => b[1] - a[1]))
    lines.push(`| ${c} | ${us(t)} | ${pct(t)} |`);
  lines.push(
    '',
    'Top self time:',
    '',
    '| function | self µs/request | share of busy | inclusive µs/request |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const [k, t] of [...fnSelf.entries()]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)) {
    lines.push(
      `| ${k.replace(/\|/g, '\\|')} | ${us(t)} | ${pct(t)} | ${us(fnTotal.get(k) ?? t)} |`,
    );
  }
  return lines;
}
