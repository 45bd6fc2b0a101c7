// Compiles every guest with the AssemblyScript compiler, in this one process:
//   assembly/apps/NAME.ts -> build/NAME.wasm (release) and build/debug/NAME.wasm (debug)
//   test/guests/NAME.ts   -> build/test/NAME.wasm and build/debug/test/NAME.wasm (guests that
//                            misbehave on purpose, for the sandbox tests)
// Targets and shared options come from asconfig.json. An entry whose first line is
// `// @runtime NAME` is built with that AssemblyScript runtime instead of asconfig's `stub`:
// apps that allocate per request (strings) need `incremental`, which collects garbage; the
// core and the shipped protocol guests allocate nothing per request and stay on `stub`.
import asc from 'assemblyscript/asc';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const jobs = [];
for (const file of readdirSync('assembly/apps').filter((f) => f.endsWith('.ts'))) {
  const name = basename(file, '.ts');
  jobs.push([`assembly/apps/${file}`, 'release', `build/${name}.wasm`]);
  jobs.push([`assembly/apps/${file}`, 'debug', `build/debug/${name}.wasm`]);
}
for (const file of readdirSync('test/guests').filter((f) => f.endsWith('.ts'))) {
  const name = basename(file, '.ts');
  jobs.push([`test/guests/${file}`, 'release', `build/test/${name}.wasm`]);
  jobs.push([`test/guests/${file}`, 'debug', `build/debug/test/${name}.wasm`]);
}

/** The runtime an entry asks for on its first line, if any. */
function runtimeOf(entry) {
  const m = /^\/\/ @runtime (\w+)/.exec(readFileSync(entry, 'utf8'));
  return m ? ['--runtime', m[1]] : [];
}

let failed = 0;
for (const [entry, target, out] of jobs) {
  const args = [entry, '--config', 'asconfig.json', '--target', target, '-o', out, ...runtimeOf(entry)];
  const { error, stderr } = await asc.main(args);
  if (error) {
    failed++;
    process.stderr.write(`asbuild: ${entry} (${target}) failed: ${error.message}\n${stderr.toString()}`);
  }
}
if (failed) process.exit(1);
console.log(`asbuild: ${jobs.length} guests built`);
