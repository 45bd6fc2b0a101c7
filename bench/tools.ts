/**
 * The external tools the bench needs, found or installed. On a fresh machine, as root, missing
 * Debian packages are installed with apt-get (once, with `apt-get update` if the first try
 * fails); otherwise whatever needs a missing tool is skipped with a printed note. Nothing is
 * ever faked: a skipped measurement is reported as skipped.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface Tools {
  cc: string | null;
  wrk: string | null;
  nginx: string | null;
  strace: string | null;
  perf: string | null;
  /** Human-readable notes about what was installed or is missing. */
  notes: string[];
}

const SEARCH = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];

export function which(name: string): string | null {
  for (const dir of SEARCH) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* not here */
    }
  }
  return null;
}

let updated = false;

/** apt-get install -y pkg (as root, non-interactively, bounded in time). */
function aptInstall(pkg: string): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', pkg], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    }).status === 0;
  if (install()) return true;
  if (updated) return false;
  updated = true;
  spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore', timeout: 300_000 });
  return install();
}

function canInstall(): boolean {
  return process.getuid?.() === 0 && which('apt-get') !== null;
}

/** Finds `bin`; if missing and allowed, installs Debian package `pkg` and looks again. */
function ensure(
  bin: string,
  pkg: string,
  allowInstall: boolean,
  notes: string[],
  missing: string,
): string | null {
  const found = which(bin);
  if (found) return found;
  if (allowInstall && canInstall()) {
    process.stdout.write(`bench: ${bin} not found; apt-get install -y ${pkg} ...\n`);
    if (aptInstall(pkg) && which(bin)) {
      notes.push(`installed ${pkg} with apt-get`);
      return which(bin);
    }
    notes.push(`${bin} missing and apt-get install ${pkg} failed: ${missing}`);
    return null;
  }
  notes.push(
    `${bin} not found (install the Debian package ${pkg}${process.getuid?.() === 0 ? '' : ' as root'}): ${missing}`,
  );
  return null;
}

export function findTools(allowInstall: boolean): Tools {
  const notes: string[] = [];
  return {
    cc: ensure(
      'cc',
      'gcc',
      allowInstall,
      notes,
      'the C reference servers and the echo load generator are skipped',
    ),
    wrk: ensure('wrk', 'wrk', allowInstall, notes, 'the HTTP throughput scenarios are skipped'),
    nginx: ensure(
      'nginx',
      'nginx-light',
      allowInstall,
      notes,
      'nginx is left out of the comparison',
    ),
    strace: ensure('strace', 'strace', allowInstall, notes, 'syscall counts by name are skipped'),
    perf: ensure(
      'perf',
      'linux-perf',
      allowInstall,
      notes,
      'full-speed syscall counts are skipped',
    ),
    notes,
  };
}

/** `tool --version`-style first line, for the record. */
export function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return out;
}
