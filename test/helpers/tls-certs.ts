/**
 * Throwaway certificates for the TLS tests, made by the `openssl` command into a temporary
 * directory when a test file starts (P-256 keys: milliseconds each). Nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

const dir = mkdtempSync(join(tmpdir(), 'wasmloop-tls-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let made = 0;

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function read(certFile: string, keyFile: string): TestCert {
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    keyFile,
  };
}

/** A self-signed certificate for `names` (the first is its CN), valid for two days. */
export function makeCert(...names: string[]): TestCert {
  const base = join(dir, `c${made++}`);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  openssl(
    ['req', '-x509', ...EC, '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '2'].concat([
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${san}`,
    ]),
  );
  return read(`${base}.crt`, `${base}.key`);
}

/** A self-signed certificate that expired in 2020 (`openssl ca` is the one way to date it). */
export function makeExpiredCert(): TestCert {
  const base = join(dir, `c${made++}`);
  writeFileSync(`${base}.idx`, '');
  writeFileSync(`${base}.serial`, '01\n');
  writeFileSync(
    `${base}.cnf`,
    `[ca]\ndefault_ca=c\n[c]\ndatabase=${base}.idx\nnew_certs_dir=${dir}\nserial=${base}.serial\n` +
      'default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n',
  );
  openssl([
    'req',
    '-new',
    ...EC,
    '-keyout',
    `${base}.key`,
    '-subj',
    '/CN=localhost',
    '-out',
    `${base}.csr`,
  ]);
  openssl(
    ['ca', '-batch', '-config', `${base}.cnf`, '-selfsign', '-keyfile', `${base}.key`]
      .concat(['-in', `${base}.csr`, '-out', `${base}.crt`])
      .concat(['-startdate', '20200101000000Z', '-enddate', '20200102000000Z']),
  );
  return read(`${base}.crt`, `${base}.key`);
}
