/**
 * deploy/: the image's command runs the same way on the host, and the Kubernetes example points
 * at what that command serves. The Dockerfile's runtime stage (ENTRYPOINT, CMD, ENV, WORKDIR)
 * is run as it stands with this repository's bin/ as `wasmloop` and only the listening addresses
 * replaced (0.0.0.0:PORT -> 127.0.0.1:0), so a CLI change that breaks the image fails here. (No
 * image is built: the test machine has no Docker daemon.)
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readRuntimeStage, readYamlDocuments, type Yaml } from './helpers/deploy-files.ts';
import { parseExposition, valueOf } from './helpers/exposition.ts';
import { GET, readResponse } from './helpers/net-http.ts';
import { killAllChildren, startChild } from './helpers/net-spawn.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('deploy');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const stage = readRuntimeStage(join(ROOT, 'deploy/Dockerfile'));
const manifests = await readYamlDocuments(join(ROOT, 'deploy/kubernetes.yaml'));
/** A directory whose `wasmloop` is this repository's bin/wasmloop.js. */
const binDir = mkdtempSync(join(tmpdir(), 'wasmloop-deploy-'));
symlinkSync(join(ROOT, 'bin/wasmloop.js'), join(binDir, 'wasmloop'));

test.after.each(() => {
  closeAllClients();
  killAllChildren();
});
test.after(() => rmSync(binDir, { recursive: true, force: true }));

/** The port the image's command gives `option` (`--tcplisten 0.0.0.0:8080` -> 8080). */
function portOf(option: string): number {
  const m = new RegExp(`${option} 0\\.0\\.0\\.0:(\\d+)`).exec(stage.entrypoint.join(' '));
  if (!m) throw new Error(`the ENTRYPOINT has no ${option} 0.0.0.0:PORT`);
  return Number(m[1]);
}
const HTTP_PORT = portOf('--tcplisten');
const METRICS_PORT = portOf('--metrics');

/** A value inside parsed YAML, by keys and indices; throws when it is missing. */
function get(v: Yaml, ...path: (string | number)[]): Yaml {
  let at: Yaml | undefined = v;
  for (const k of path) {
    at = at !== null && typeof at === 'object' ? (at as Record<string, Yaml>)[k] : undefined;
    if (at === undefined) throw new Error(`kubernetes.yaml: no ${path.join('.')}`);
  }
  return at;
}
const ofKind = (kind: string) => manifests.find((d) => get(d, 'kind') === kind)!;
const container = get(ofKind('Deployment'), 'spec', 'template', 'spec', 'containers', 0);

/** The container port a probe or Service names (by name or number). */
function containerPort(port: Yaml): number {
  const ports = get(container, 'ports') as Yaml[];
  const named = ports.find((p) => get(p, 'name') === port || get(p, 'containerPort') === port);
  return get(named ?? {}, 'containerPort') as number;
}

/** Runs ENTRYPOINT + `cmd` from the package's root (the repository's root here) with the
 *  image's ENV and `env`; waits until it serves and answers one request and a scrape with
 *  `workers` workers; then SIGTERM must end it with status 0. */
async function runLikeTheImage(cmd: string[], env: Record<string, string>, workers: number) {
  const local = (a: string) =>
    a
      .replaceAll(`0.0.0.0:${HTTP_PORT}`, '127.0.0.1:0')
      .replaceAll(`0.0.0.0:${METRICS_PORT}`, '127.0.0.1:0');
  const [exe, ...args] = [...stage.entrypoint, ...cmd].map(local);
  const { PATH: _imagePath, ...imageEnv } = stage.env;
  const PATH = [binDir, dirname(process.execPath), process.env.PATH].join(':');
  const child = startChild(exe!, args, {
    cwd: ROOT,
    env: { ...process.env, ...imageEnv, ...env, PATH },
  });
  const { port, metricsUrl } = await waitFor(() => {
    const err = child.stderr();
    if (child.proc.exitCode !== null) throw new Error(`the image's command exited: ${err}`);
    const metrics = /^wasmloop: metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(err);
    const serving = /^wasmloop: serving \S+ on 127\.0\.0\.1:(\d+)$/m.exec(err);
    return metrics && serving ? { metricsUrl: metrics[1]!, port: Number(serving[1]) } : undefined;
  }, 'the metrics and serving lines');
  const c = await RawClient.connect(port);
  await c.write(GET());
  assert.is((await readResponse(c)).status, 200);
  c.sock.destroy();
  const requests = await scrapeUntilRequests(metricsUrl, workers);
  assert.is(requests, 1);
  child.proc.kill('SIGTERM');
  assert.is(await child.exited(), 0);
  assert.match(child.stderr(), /SIGTERM: closing/);
}

/** Scrapes until one request shows (workers publish every 50 ms); the total over `workers`. */
async function scrapeUntilRequests(url: string, workers: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await fetch(url);
    assert.is(res.status, 200);
    const m = parseExposition(await res.text());
    const per = Array.from({ length: workers }, (_, w) =>
      valueOf(m, 'wasmloop_requests_total', { worker: String(w) }),
    );
    const total = per.reduce((a, b) => a + b, 0);
    if (total > 0 || Date.now() > deadline) return total;
    await sleep(20);
  }
}

test('the image runs as a non-root user from the package root, exposing the ports it serves', () => {
  assert.is.not(stage.user, 'root');
  assert.is.not(stage.user, '0');
  assert.ok(stage.workdir.endsWith('/node_modules/wasmloop'), stage.workdir);
  assert.equal([...stage.expose].sort(), [HTTP_PORT, METRICS_PORT].sort());
});

test("the image's ENTRYPOINT and CMD with its ENV serve, scrape and drain on SIGTERM", async () => {
  await runLikeTheImage(stage.cmd, {}, Number(stage.env.WASMLOOP_WORKERS));
});

/** Whole CPUs of a Kubernetes quantity, rounded up as resourceFieldRef with divisor 1 does. */
function cpus(quantity: Yaml): number {
  const m = /^(\d+)(m?)$/.exec(String(quantity));
  if (!m) throw new Error(`cpu limit ${String(quantity)}`);
  return Math.ceil(Number(m[1]) / (m[2] === 'm' ? 1000 : 1));
}

test("the Deployment's args and CPU limit (as --workers) run with the image's entrypoint", async () => {
  const env = (get(container, 'env') as Yaml[]).find((e) => get(e, 'name') === 'WASMLOOP_WORKERS');
  const ref = get(env ?? {}, 'valueFrom', 'resourceFieldRef');
  assert.equal(ref, {
    containerName: get(container, 'name'),
    resource: 'limits.cpu',
    divisor: '1',
  });
  const workers = cpus(get(container, 'resources', 'limits', 'cpu'));
  await runLikeTheImage(
    get(container, 'args') as string[],
    { WASMLOOP_WORKERS: String(workers) },
    workers,
  );
});

test('the probes and the Service point at the ports the command serves', () => {
  for (const probe of ['readinessProbe', 'livenessProbe']) {
    assert.is(get(container, probe, 'httpGet', 'path'), '/metrics', probe);
    assert.is(containerPort(get(container, probe, 'httpGet', 'port')), METRICS_PORT, probe);
  }
  const service = ofKind('Service');
  const targets = (get(service, 'spec', 'ports') as Yaml[]).map((p) => get(p, 'targetPort'));
  assert.equal(targets.map(containerPort), [HTTP_PORT, METRICS_PORT]);
  assert.equal(
    get(service, 'spec', 'selector'),
    get(ofKind('Deployment'), 'spec', 'selector', 'matchLabels'),
  );
});

test('terminationGracePeriodSeconds covers preStop, --grace-ms and the one second after it', () => {
  const pod = get(ofKind('Deployment'), 'spec', 'template', 'spec');
  const args = get(container, 'args') as string[];
  const graceMs = Number(args[args.indexOf('--grace-ms') + 1]);
  const preStop = get(container, 'lifecycle', 'preStop', 'exec', 'command') as string[];
  assert.equal(preStop.slice(0, 1), ['sleep']);
  const needed = Number(preStop[1]) * 1000 + graceMs + 1000;
  assert.ok(graceMs > 0 && needed <= (get(pod, 'terminationGracePeriodSeconds') as number) * 1000);
});

test.run();
