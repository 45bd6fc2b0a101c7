/**
 * The HTTPS scenarios' servers (issue 15; docs/PERFORMANCE.md): hello.wasm behind wasmloop's
 * TLS (`--tls-cert/--tls-key`) and nginx with its SSL module, returning the same body with the
 * same certificate: one P-256 pair made for the run by the openssl command, OpenSSL's default
 * ciphers and TLS 1.2-1.3 on both (wrk negotiates TLS 1.3, TLS_AES_256_GCM_SHA384, with each).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxSetup } from './nginx.ts';
import { wasmloopServer, type ServerContext, type ServerDef } from './servers.ts';

export interface BenchCert {
  cert: string;
  key: string;
}

let made: BenchCert | null | undefined;

/** The run's certificate and key files (made once, removed at exit), or null without openssl. */
export function benchCert(): BenchCert | null {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-bench-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  made = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
        .concat(['-keyout', made.key, '-out', made.cert, '-days', '2', '-subj', '/CN=localhost'])
        .concat(['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
  } catch {
    made = null;
  }
  return made;
}

/** Whether this nginx was built with its SSL module (`nginx -V` writes to stderr). */
function nginxHasSsl(nginx: string): boolean {
  const v = spawnSync(nginx, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  return `${v.stdout}${v.stderr}`.includes('with-http_ssl_module');
}

function nginxHttps(ctx: ServerContext, cert: BenchCert | null): ServerDef {
  const { nginx } = ctx.tools;
  const why = !nginx
    ? 'nginx not installed'
    : !cert
      ? 'no openssl command to make the certificate'
      : !nginxHasSsl(nginx)
        ? 'this nginx has no SSL module (Debian: nginx-light has it)'
        : null;
  return {
    id: 'nginx',
    label: 'nginx (TLS)',
    kind: 'https',
    unavailable: why,
    command: (port) => {
      const setup = nginxSetup(port, cert!);
      return {
        cmd: nginx!,
        args: setup.args,
        cleanup: () => rmSync(setup.prefix, { recursive: true, force: true }),
      };
    },
  };
}

/** The rows of the HTTPS scenarios: wasmloop (the CLI's default run) and nginx. */
export function httpsServers(ctx: ServerContext): ServerDef[] {
  const cert = benchCert();
  const flags = cert ? ['--tls-cert', cert.cert, '--tls-key', cert.key] : [];
  const wasmloop = wasmloopServer(ctx, 'https', 'wasm/hello.wasm', {
    id: 'wasmloop',
    label: 'wasmloop (TLS)',
    flags,
    inIdle: false,
  });
  if (!cert) wasmloop.unavailable ??= 'no openssl command to make the certificate';
  return [wasmloop, nginxHttps(ctx, cert)];
}
