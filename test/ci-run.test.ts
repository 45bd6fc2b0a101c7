/**
 * .ci/run's last line, "N passed, N failed, N skipped", and its exit status, from saved
 * `npm test` logs (`.ci/run --summary LOG STATUS` runs only the counting, not the suite).
 * A skipped test fails CI unless CI_ALLOW_SKIPS names it as intended. Each step of the run has a
 * time limit (`.ci/run --step` runs one command under it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers/cmd-spawn.ts';

/** uvu's summary, as NO_COLOR=1 prints it. */
const uvuSummary = (total: number, passed: number, skipped: number) =>
  `  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  1.00ms\n\n`;

function summary(
  log: string,
  status: number,
  env: Record<string, string> = {},
): { line: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-ci-'));
  try {
    writeFileSync(join(dir, 'log'), log);
    const r = spawnSync(
      'bash',
      [join(ROOT, '.ci/run'), '--summary', join(dir, 'log'), String(status)],
      {
        encoding: 'utf8',
        env: { ...process.env, CI_ALLOW_SKIPS: '', ...env },
        timeout: 10000,
      },
    );
    return { line: r.stdout.trimEnd().split('\n').at(-1) ?? '', status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a green run: passed, no failures, no skips; exit 0', () => {
  assert.equal(summary(uvuSummary(41, 41, 0), 0), {
    line: '41 passed, 0 failed, 0 skipped',
    status: 0,
  });
});

test('failures are Total - Passed (uvu leaves skipped tests out of Total)', () => {
  assert.equal(summary(uvuSummary(41, 38, 0), 1), {
    line: '38 passed, 3 failed, 0 skipped',
    status: 1,
  });
});

test('a skip is reported and fails CI: it counts as a failure too', () => {
  assert.equal(summary(uvuSummary(37, 37, 4), 0), {
    line: '37 passed, 4 failed, 4 skipped',
    status: 1,
  });
});

test('CI_ALLOW_SKIPS=N allows exactly N intended skips', () => {
  assert.equal(summary(uvuSummary(37, 37, 4), 0, { CI_ALLOW_SKIPS: '4' }), {
    line: '37 passed, 0 failed, 4 skipped',
    status: 0,
  });
  assert.equal(summary(uvuSummary(37, 37, 4), 0, { CI_ALLOW_SKIPS: '3' }), {
    line: '37 passed, 1 failed, 4 skipped',
    status: 1,
  });
  assert.equal(summary(uvuSummary(37, 37, 4), 0, { CI_ALLOW_SKIPS: 'all' }), {
    line: '37 passed, 4 failed, 4 skipped',
    status: 1,
  });
});

test('no summary at all (a typecheck failure, a crash) is one failure', () => {
  assert.equal(summary('error TS2305: nope\n', 2), {
    line: '0 passed, 1 failed, 0 skipped',
    status: 1,
  });
  assert.equal(summary(uvuSummary(5, 5, 0), 139), {
    line: '5 passed, 1 failed, 0 skipped',
    status: 139,
  });
});

/**
 * `.ci/run --step NAME SECONDS CMD...`: one step under its time limit. SIGKILL follows SIGTERM
 * after 1 s here instead of CI's 10, so the suite does not wait 10 s for it.
 */
function step(seconds: number, ...cmd: string[]) {
  const started = Date.now();
  const r = spawnSync('bash', [join(ROOT, '.ci/run'), '--step', 'probe', String(seconds), ...cmd], {
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, CI_KILL_AFTER: '1' },
  });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - started };
}

test('a step that outlives its time limit is stopped and named', () => {
  const r = step(1, 'sleep', '30');
  assert.equal(r.status, 124);
  assert.ok(r.ms < 15000, `stopped after ${r.ms} ms`);
  assert.match(r.stderr, /step 'probe' took longer than its limit of 1 s/);
});

test('a step within its limit keeps its own exit status and says nothing', () => {
  const ok = step(5, 'true');
  assert.equal([ok.status, ok.stderr], [0, '']);
  assert.equal(step(5, 'bash', '-c', 'exit 3').status, 3);
});

test('a step that ignores SIGTERM is killed', () => {
  const r = step(1, 'bash', '-c', "trap '' TERM; sleep 30");
  assert.equal(r.status, 137);
  assert.ok(r.ms < 6000, `killed after ${r.ms} ms`);
});

test.run();
