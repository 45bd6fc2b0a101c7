/** What a result was measured on and with: the machine, the tools, and the exact build. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CFLAGS } from './build.ts';
import { WASMLOOP_ARTIFACTS } from './servers.ts';
import { versionOf, type Tools } from './tools.ts';

export function machineInfo(tools: Tools): Record<string, string> {
  const info: Record<string, string> = {
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
  if (tools.cc) info.cc = `${versionOf(tools.cc, ['--version'])} (${CFLAGS.join(' ')})`;
  if (tools.wrk) info.wrk = versionOf(tools.wrk, ['-v']).replace(/\s*\[.*$/, '');
  if (tools.nginx) info.nginx = versionOf(tools.nginx, ['-v']).replace(/^nginx version:\s*/, '');
  if (tools.strace) info.strace = versionOf(tools.strace, ['-V']);
  if (tools.perf) info.perf = versionOf(tools.perf, ['--version']);
  return info;
}

function git(root: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** A short digest of each wasmloop artifact under `dir`. */
export function artifactDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of WASMLOOP_ARTIFACTS) {
    try {
      out[f] = createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex')
        .slice(0, 12);
    } catch {
      out[f] = 'missing';
    }
  }
  return out;
}

/** The commit, whether the tree had local changes, and a digest and build time of each
 *  artifact measured (`measured`: the snapshot the servers ran from). */
export function buildInfo(root: string, measured: string): Record<string, string> {
  const info: Record<string, string> = {};
  const commit = git(root, ['rev-parse', '--short', 'HEAD']);
  if (commit)
    info.commit = `${commit}${git(root, ['status', '--porcelain', '--', 'assembly', 'host']) ? ' (assembly/ or host/ had local changes)' : ''}`;
  const digests = artifactDigests(measured);
  for (const f of WASMLOOP_ARTIFACTS) {
    try {
      info[f] = `sha256 ${digests[f]}, built ${statSync(join(root, f))
        .mtime.toISOString()
        .replace(/\.\d+Z$/, 'Z')}`;
    } catch {
      info[f] = 'missing';
    }
  }
  return info;
}
