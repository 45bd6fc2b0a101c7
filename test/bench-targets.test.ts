/**
 * The bench's issue-12 target lines (bench/ratio-targets.ts), evaluated over made-up results:
 * hello's "no regression" line is printed per HTTP scenario, and each SDK-app line carries
 * hello's figure from the same run and the SDK app's over it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateTargets } from '../bench/targets.ts';
import type { Results } from '../bench/model.ts';

const test = suite('bench targets');

/** One run's results: CPU µs per request of each server in each HTTP scenario. */
function results(cpu: Record<string, Record<string, number>>): Results {
  const scenarios = Object.entries(cpu).map(([id, servers]) => ({
    id,
    kind: 'http',
    cells: Object.entries(servers).map(([server, cpuUsPerReq]) => ({
      server,
      summary: { cpuUsPerReq, rate: 1e6 / cpuUsPerReq },
      syscalls: null,
      fullSpeed: null,
    })),
  }));
  return { scenarios, idle: [], notes: [] } as unknown as Results;
}

const run = results({
  'http-50': { c: 3.5, wasmloop: 3.6, 'wasmloop-sdk': 4.0 },
  'http-pipe16-50': { c: 0.27, wasmloop: 0.3, 'wasmloop-sdk': 0.33 },
});
const byName = (name: string) => evaluateTargets(run).find((t) => t.name === name);

test("hello's no-regression line, met and not met by its ratio to C", () => {
  const ka = byName('http-50: hello requests per CPU-second >= 0.95 x C');
  assert.ok(ka, 'printed for http-50');
  assert.is(ka.met, true, `3.5 / 3.6 = 0.972: ${ka.detail}`);
  const pipe = byName('http-pipe16-50: hello requests per CPU-second >= 0.95 x C');
  assert.is(pipe?.met, false, `0.27 / 0.30 = 0.90: ${pipe?.detail}`);
  const unmeasured = byName('http-500: hello requests per CPU-second >= 0.95 x C');
  assert.is(unmeasured?.met, null, 'no http-500 in the run: not evaluated');
});

test('an SDK-app line carries hello beside it and the SDK app over hello', () => {
  const sdk = byName('http-50: SDK app requests per CPU-second >= 0.95 x C');
  assert.is(sdk?.met, false, '3.5 / 4.0 = 0.875');
  assert.match(sdk!.detail, /hello 277\.78 k req\/CPU-s, SDK app \/ hello 0\.900$/);
  const unmeasured = byName('http-500: SDK app requests per CPU-second >= 0.95 x C');
  assert.is(unmeasured?.detail, 'not measured in this run');
});

test.run();
