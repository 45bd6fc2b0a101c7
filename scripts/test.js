#!/usr/bin/env node
// The test suite in parallel shards: `npm test` runs this after the format check and the
// typecheck. Each shard is one uvu process over every Nth file of test/*.test.ts (alphabetical,
// so heavy and light files mix); the machine's cores otherwise idle while a loopback test
// waits on its sockets. Each shard's output is printed whole when it ends (never interleaved),
// then the combined "Total / Passed / Skipped / Duration" lines in uvu's own format, which
// .ci/run reads. Exits 1 if any shard failed.
//
//   node scripts/test.js [PATTERN]     PATTERN: a regex on file names (default: all)
//   WASMLOOP_TEST_JOBS=N               shards (default: the cores, at most 2; 1: one process)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pattern = new RegExp(process.argv[2] ?? '\\.test\\.ts$');
const files = readdirSync(`${ROOT}test`)
  .filter((f) => f.endsWith('.test.ts') && pattern.test(f))
  .sort();
const jobs = Math.max(
  1,
  Math.min(
    Number(process.env.WASMLOOP_TEST_JOBS) || Math.min(availableParallelism(), 2),
    files.length,
  ),
);

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs uvu over `names`; resolves with its output and exit status. */
function shard(names) {
  const only = `^(${names.map(escape).join('|')})$`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', only],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  return new Promise((done) => child.on('close', (code, signal) => done({ out, code, signal })));
}

const count = (out, label) =>
  Number(new RegExp(`^\\s*${label}:\\s*(\\d+)`, 'm').exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1]);

const started = Date.now();
const shards = Array.from({ length: jobs }, (_, i) => files.filter((_, k) => k % jobs === i));
const results = await Promise.all(shards.map(shard));
let total = 0,
  passed = 0,
  skipped = 0,
  failed = false;
results.forEach((r, i) => {
  process.stdout.write(`\n--- shard ${i + 1}/${jobs} (${shards[i].length} files) ---\n${r.out}`);
  const t = count(r.out, 'Total');
  // A shard that died before its summary (a crash, a signal) has no counts: a failure.
  if (r.code !== 0 || Number.isNaN(t)) failed = true;
  if (Number.isNaN(t)) {
    process.stdout.write(`test: shard ${i + 1} ended without a summary (${r.signal ?? r.code})\n`);
    total++; // counted as one failed test, as .ci/run counts a run with no summary
    return;
  }
  total += t;
  passed += count(r.out, 'Passed') || 0;
  skipped += count(r.out, 'Skipped') || 0;
});
if (failed && total === passed) total++; // a shard that failed without a failed test counts one
process.stdout.write(
  `\n  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${Date.now() - started}ms\n\n`,
);
process.exit(failed ? 1 : 0);
