/**
 * What `wasmloop run` does with a module once its command line is parsed (host/cli-args.ts): a
 * wasmloop guest is served until a signal closes it; a plain WASI command runs once.
 */
import { formatAddress } from './address.ts';
import { checkCommand, runCommand } from './command/command.ts';
import { createLoop, type WasmLoop } from './index.ts';
import { checkLimits, effectiveLimits } from './limits.ts';
import { inheritedListenFds } from './listen-fds.ts';
import { loadModule } from './module.ts';
import { serveMetrics, type MetricsServer } from './metrics-server.ts';
import { usage, type RunArgs } from './cli-args.ts';
import { readTlsFiles } from './tls.ts';
import { reloadCertificatesOnHangup, reloadOnRequest } from './cli-reload.ts';

/** A plain WASI command (no wasmloop ABI): runs once, and its exit status is ours. It is held
 *  to the same memory and table caps as a guest, so it is compiled again with them. Its
 *  listeners are preopened (its fds 3, 4, ...) and announced as a guest's are. */
export async function runWasiCommand(module: WebAssembly.Module, opts: RunArgs): Promise<number> {
  checkCommand(module);
  if (opts.metrics) usage(`--metrics needs a wasmloop guest; ${opts.module} is a WASI command`);
  if (Object.keys(opts.tlsFiles).length > 0)
    usage(`--tls-cert needs a wasmloop guest; ${opts.module} is a WASI command`);
  const capped = await loadModule(opts.module, effectiveLimits(checkLimits(opts.limits)));
  return runCommand(capped, {
    args: opts.args,
    env: opts.env,
    dirs: opts.dirs,
    backend: opts.wasi,
    listen: opts.listen,
    listenFds: inheritedFds(opts),
    limits: opts.limits,
    onListening: (addresses) => {
      for (const a of addresses)
        process.stderr.write(`wasmloop: serving ${opts.module} on ${formatAddress(a)}\n`);
    },
  });
}

/** Serves a wasmloop guest on its listeners; resolves once a signal has closed it. */
export async function serveGuest(module: WebAssembly.Module, opts: RunArgs): Promise<void> {
  checkLimits(opts.limits, module); // before anything is opened: the names this module takes
  if (opts.dirs.length > 0 || opts.wasi !== undefined)
    usage('--dir and --wasi are for WASI commands; a wasmloop guest gets an in-memory filesystem');
  if (opts.listen.length === 0 && !opts.listenfd)
    usage('nothing to serve: give at least one --tcplisten HOST:PORT (or --listenfd)');
  const loop = await startLoop(opts);
  // The handlers go on before the "serving" line: whoever waits for that line (a supervisor,
  // a test) may signal at once, and a signal in between would take Node's default action.
  const stops = [
    closeOnSignals(loop, opts.graceMs),
    reloadOnRequest(loop, opts.module, opts.watch),
    reloadCertificatesOnHangup(loop, opts.tlsFiles),
  ];
  const stopListening = () => stops.forEach((stop) => stop());
  let metrics: MetricsServer | undefined;
  try {
    metrics = opts.metrics ? await serveMetrics(loop, opts.metrics) : undefined;
  } catch (err) {
    stopListening();
    await loop.close({ graceMs: 0 });
    throw err;
  }
  if (metrics)
    process.stderr.write(`wasmloop: metrics on http://${formatAddress(metrics.address)}/metrics\n`);
  for (const a of loop.addresses())
    process.stderr.write(`wasmloop: serving ${opts.module} on ${formatAddress(a)}\n`);
  const statsTimer = opts.stats ? startStatsLine(loop) : undefined;
  try {
    await loop.done;
  } finally {
    clearInterval(statsTimer);
    stopListening();
    await metrics?.close();
  }
}

/** The loop `run`'s options describe. */
function startLoop(opts: RunArgs): Promise<WasmLoop> {
  return createLoop({
    module: opts.module,
    listen: opts.listen.map((a, i) => ({ ...a, tls: readTlsFiles(opts.tlsFiles[i]) })),
    listenFds: inheritedFds(opts),
    env: opts.env,
    args: opts.args,
    maxRestarts: opts.maxRestarts,
    limits: opts.limits,
    workers: opts.workers,
    watchdogMs: opts.watchdogMs,
    driver: opts.driver,
    drainMs: opts.drainMs,
  });
}

/** With `--listenfd`, the fds systemd socket activation passed us (ERR_WASMLOOP_USAGE when
 *  LISTEN_PID or LISTEN_FDS say none were); they are checked when opened. */
function inheritedFds(opts: RunArgs): number[] | undefined {
  return opts.listenfd ? inheritedListenFds() : undefined;
}

/** SIGINT and SIGTERM close the loop: the first lets connections finish for `graceMs`, the
 *  next closes at once. Returns what takes the handlers off again. */
function closeOnSignals(loop: WasmLoop, graceMs: number): () => void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    process.stderr.write(
      signals === 1
        ? `wasmloop: ${sig}: closing (grace ${graceMs} ms)\n`
        : `wasmloop: ${sig}: closing now\n`,
    );
    void loop.close({ graceMs: signals === 1 ? graceMs : 0 });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Prints one line a second: open connections, and requests, bytes in and bytes out per second. */
function startStatsLine(loop: WasmLoop): NodeJS.Timeout {
  let last = loop.stats();
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const s = loop.stats();
    const per = (n: number) => Math.round((n * 1000) / (now - lastAt));
    process.stderr.write(
      `wasmloop: stats conns=${s.open} req/s=${per(s.requests - last.requests)} in/s=${per(s.bytesIn - last.bytesIn)} ` +
        `out/s=${per(s.bytesOut - last.bytesOut)} total_req=${s.requests} accept_errors=${s.acceptErrors} ` +
        `timeouts=${s.timeouts} restarts=${s.restarts}\n`,
    );
    last = s;
    lastAt = now;
  }, 1000);
  timer.unref();
  return timer;
}
