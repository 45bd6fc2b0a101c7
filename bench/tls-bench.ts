/**
 * HTTPS side by side (issue 15; docs/PERFORMANCE.md, "TLS"): hello.wasm behind wasmloop's TLS
 * against nginx serving the same "Hello, World!" over TLS, with the same certificate (P-256) and
 * OpenSSL's default ciphers on both (TLS 1.3, TLS_AES_256_GCM_SHA384 with wrk). Two scenarios,
 * each measured with wrk pinned to CPU 1 and the server to CPU 0, servers alternating:
 *  - https-ka-50: keep-alive, 50 connections: server CPU per request;
 *  - https-hs-50: `Connection: close`, 50 connections: a full handshake per request, so
 *    handshakes per server CPU-second.
 * Not part of `npm run bench` yet: run by hand, `node --import tsx bench/tls-bench.ts [rounds]`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { nginxSetup } from './nginx.ts';

const ROUNDS = Number(process.argv[2] ?? 2);
const SECONDS = 5;
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const dir = mkdtempSync(join(tmpdir(), 'wasmloop-tls-bench-'));
execFileSync(
  'openssl',
  ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'].concat(
    ['-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2'].concat([
      '-subj',
      '/CN=localhost',
    ]),
  ),
  { stdio: 'ignore' },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process and its children (nginx's worker), in microseconds. */
function cpuUs(pid: number): number {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // no child process (wasmloop: its loop is a thread)
  }
  let ticks = 0;
  for (const p of [pid, ...children]) {
    const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * TICK_US;
}

function startWasmloop(port: number): ChildProcess {
  return spawn(
    'taskset',
    ['-c', '0', process.execPath, 'bin/wasmloop.js', 'run', 'wasm/hello.wasm']
      .concat(['--tcplisten', `127.0.0.1:${port}`, '--tls-cert', `${dir}/cert.pem`])
      .concat(['--tls-key', `${dir}/key.pem`]),
    { stdio: 'ignore' },
  );
}

function startNginx(port: number): ChildProcess {
  const setup = nginxSetup(port);
  const conf = readFileSync(setup.conf, 'utf8').replace(
    `listen 127.0.0.1:${port} backlog=4096;`,
    `listen 127.0.0.1:${port} ssl backlog=4096;\n        ssl_certificate ${dir}/cert.pem;\n` +
      `        ssl_certificate_key ${dir}/key.pem;\n        ssl_protocols TLSv1.2 TLSv1.3;`,
  );
  writeFileSync(setup.conf, conf);
  return spawn('taskset', ['-c', '0', 'nginx', ...setup.args], { stdio: 'ignore' });
}

/** One wrk run: requests per second and server CPU microseconds per request. */
function measure(pid: number, port: number, close: boolean): { rps: number; cpu: number } {
  const args = ['-c', '1', 'wrk', '-t1', '-c50', `-d${SECONDS}s`];
  if (close) args.push('-H', 'Connection: close');
  const before = cpuUs(pid);
  const out = execFileSync('taskset', [...args, `https://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
  const used = cpuUs(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps: requests / SECONDS, cpu: used / Math.max(requests, 1) };
}

const rows: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, start] of [
    ['wasmloop', startWasmloop],
    ['nginx', startNginx],
  ] as const) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = start(port);
    await sleep(1500);
    const pid = child.pid!; // taskset execs the server itself
    for (const close of [false, true]) {
      const m = measure(pid, port, close);
      const perCpuSecond = 1e6 / m.cpu;
      rows.push(
        `| ${close ? 'https-hs-50' : 'https-ka-50'} | ${name} | ${round} | ${Math.round(m.rps)} | ${m.cpu.toFixed(1)} | ${Math.round(perCpuSecond)} |`,
      );
      console.log(rows.at(-1));
    }
    child.kill('SIGTERM');
    await sleep(500);
  }
}
console.log(
  '\n| scenario | server | round | requests/s | server CPU µs/req | requests per server CPU-second |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
console.log(rows.sort().join('\n'));
