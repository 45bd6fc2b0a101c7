/**
 * `perf report` output turned into CPU time per request by category (kernel, guest wasm, N-API
 * path, V8, host JS, the shim, libuv, libc), so wasmloop and the C server can be compared line
 * by line. Used by bench/profile.ts.
 */

export interface PerfBreakdown {
  requests: number;
  cpuUsPerRequest: number;
  /** category -> µs per request */
  categories: Map<string, number>;
  /** The top user-space symbols, formatted. */
  top: string[];
}

/** Which part of the server a perf sample (DSO + symbol) belongs to. */
export function perfCategory(dso: string, sym: string): string {
  if (dso.includes('kernel'))
    return /epoll|\bep_|eventpoll/.test(sym)
      ? 'kernel: epoll'
      : 'kernel: TCP, syscall entry, scheduler, rest';
  if (dso.startsWith('[JIT]')) {
    if (sym.includes('wasm-to-js') || sym.includes('js-to-wasm')) return 'wasm<->JS call wrappers';
    if (sym.includes('wasm-function')) return 'guest wasm code';
    // The host's bundles: cli.js on the main thread, worker.js on the CLI's worker threads.
    if (/\/dist\/[\w-]+\.js:/.test(sym)) return 'host JS (dist/*.js: loop.ts, io-batch.ts ...)';
    return 'other JS (Node internals)';
  }
  if (dso === 'wasmloop.node') return 'native shim (wasmloop.node)';
  if (dso.startsWith('libc') || dso === '[vdso]') return 'libc, vdso';
  if (dso === 'node') {
    if (/Wasm|wasm/.test(sym)) return 'wasm<->JS call wrappers';
    if (/napi_|v8impl|CallApiCallback|v8::(?!internal)/.test(sym))
      return 'N-API and V8 API call path';
    if (/node::|AsyncHooks|MakeCallback|CallbackScope/.test(sym))
      return 'Node callback machinery (MakeCallback, async hooks)';
    if (/\buv_|uv__/.test(sym)) return 'libuv';
    return 'V8 runtime, builtins, other';
  }
  return `program: ${dso}`;
}

/**
 * Parses `perf report --stdio --no-children --sort dso,sym` and scales each sample share to
 * `cpuUsPerRequest` (the server's measured CPU time per request over the recorded window).
 */
export function parsePerfReport(
  report: string,
  requests: number,
  cpuUsPerRequest: number,
  wasmName: (s: string) => string,
): PerfBreakdown {
  const categories = new Map<string, number>();
  const top: string[] = [];
  for (const line of report.split('\n')) {
    const m = /^\s+(\d+\.\d+)%\s+(\[JIT\] tid \d+|\S+)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const pct = Number(m[1]);
    const dso = m[2]!.startsWith('[JIT]') ? '[JIT]' : m[2]!;
    const us = (pct / 100) * cpuUsPerRequest;
    const cat = perfCategory(dso, m[3]!);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    if (top.length < 30 && !dso.includes('kernel'))
      top.push(`${us.toFixed(3)} µs/req  ${pct.toFixed(2)}%  ${dso}  ${wasmName(m[3]!.trim())}`);
  }
  return { requests, cpuUsPerRequest, categories, top };
}

/** The mean of several rounds (µs per request, category by category). */
export function meanBreakdown(xs: PerfBreakdown[]): PerfBreakdown {
  const categories = new Map<string, number>();
  for (const x of xs)
    for (const [k, v] of x.categories) categories.set(k, (categories.get(k) ?? 0) + v / xs.length);
  return {
    requests: xs.reduce((a, x) => a + x.requests, 0),
    cpuUsPerRequest: xs.reduce((a, x) => a + x.cpuUsPerRequest, 0) / xs.length,
    categories,
    top: xs[xs.length - 1]!.top,
  };
}

/** Markdown lines comparing wasmloop (`a`) with the C server (`b`). */
export function perfMarkdown(a: PerfBreakdown, b: PerfBreakdown): string[] {
  const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
  const lines = [
    `Server CPU over the windows (utime+stime): wasmloop ${a.cpuUsPerRequest.toFixed(2)} µs/request (${a.requests} requests), C ${b.cpuUsPerRequest.toFixed(2)} µs/request (${b.requests} requests). Each category's share of the samples is scaled to that CPU time.`,
    '',
    '| where | wasmloop µs/request | C µs/request | difference |',
    '| --- | ---: | ---: | ---: |',
  ];
  const cats = [...new Set([...a.categories.keys(), ...b.categories.keys()])].sort(
    (x, y) => (a.categories.get(y) ?? 0) - (a.categories.get(x) ?? 0),
  );
  for (const c of cats) {
    const x = a.categories.get(c) ?? 0;
    const y = b.categories.get(c) ?? 0;
    lines.push(`| ${c} | ${x.toFixed(3)} | ${y.toFixed(3)} | ${signed(x - y)} |`);
  }
  lines.push(
    `| **total** | **${a.cpuUsPerRequest.toFixed(3)}** | **${b.cpuUsPerRequest.toFixed(3)}** | **${signed(a.cpuUsPerRequest - b.cpuUsPerRequest)}** |`,
    '',
  );
  for (const [label, x] of [
    ['wasmloop', a],
    ['C', b],
  ] as const) {
    lines.push(`Top user-space symbols, ${label} (last round):`, '```', ...x.top, '```');
  }
  return lines;
}
