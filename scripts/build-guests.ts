// Compiles every guest with the AssemblyScript compiler, in this one process:
//   assembly/apps/NAME.ts -> wasm/NAME.wasm (release) and wasm/debug/NAME.wasm (debug)
//   test/guests/NAME.ts   -> wasm/test/NAME.wasm and wasm/debug/test/NAME.wasm (guests that
//                            misbehave on purpose, for the sandbox tests)
// Each is built by host/tools/build.ts, the code behind `wasmloop build`: asconfig.json's
// targets and options, the entry's `// @runtime` and `// @limits` lines, and (for the apps) the
// checks `wasmloop run` makes. The core and the shipped protocol guests allocate nothing per
// request and stay on the `stub` runtime; apps that allocate per request say `incremental`.
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { buildGuest } from '../host/tools/build.ts';

interface Job {
  entry: string;
  out: string;
  debug: boolean;
  check: boolean;
}

const jobs: Job[] = [];
for (const [dir, prefix, check] of [
  ['assembly/apps', '', true],
  ['test/guests', 'test/', false],
] as const) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const name = basename(file, '.ts');
    jobs.push({ entry: `${dir}/${file}`, out: `wasm/${prefix}${name}.wasm`, debug: false, check });
    jobs.push({
      entry: `${dir}/${file}`,
      out: `wasm/debug/${prefix}${name}.wasm`,
      debug: true,
      check,
    });
  }
}

let failed = 0;
for (const job of jobs) {
  try {
    await buildGuest(job);
  } catch (err) {
    failed++;
    const target = job.debug ? 'debug' : 'release';
    process.stderr.write(`asbuild: ${job.entry} (${target}) failed: ${(err as Error).message}\n`);
  }
}
if (failed) process.exit(1);
console.log(`asbuild: ${jobs.length} guests built`);
