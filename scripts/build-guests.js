// Compiles every guest with the AssemblyScript compiler, in this one process:
//   assembly/apps/NAME.ts -> wasm/NAME.wasm (release) and wasm/debug/NAME.wasm (debug)
//   test/guests/NAME.ts   -> wasm/test/NAME.wasm and wasm/debug/test/NAME.wasm (guests that
//                            misbehave on purpose, for the sandbox tests)
// Targets and shared options come from asconfig.json. An entry whose first line is
// `// @runtime NAME` is built with that AssemblyScript runtime instead of asconfig's `stub`:
// apps that allocate per request (strings) need `incremental`, which collects garbage; the
// core and the shipped protocol guests allocate nothing per request and stay on `stub`.
// An entry with a line `// @limits [DECL...] [name=default...]` declares the limits it reads
// (docs/ABI.md, "Limits"): each DECL is assembly/limits/DECL.json (or a path ending in .json),
// merged in order, then each name=default changes the default of a declared limit (an app that
// sets http.defaults.maxBodyBytes says so here too). The declaration goes into the module as the
// custom section `wasmloop.limits`, appended after the compiler has written the module.
import asc from 'assemblyscript/asc';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const jobs = [];
for (const file of readdirSync('assembly/apps').filter((f) => f.endsWith('.ts'))) {
  const name = basename(file, '.ts');
  jobs.push([`assembly/apps/${file}`, 'release', `wasm/${name}.wasm`]);
  jobs.push([`assembly/apps/${file}`, 'debug', `wasm/debug/${name}.wasm`]);
}
for (const file of readdirSync('test/guests').filter((f) => f.endsWith('.ts'))) {
  const name = basename(file, '.ts');
  jobs.push([`test/guests/${file}`, 'release', `wasm/test/${name}.wasm`]);
  jobs.push([`test/guests/${file}`, 'debug', `wasm/debug/test/${name}.wasm`]);
}

/** The runtime an entry asks for on its first line, if any. */
function runtimeOf(entry) {
  const m = /^\/\/ @runtime (\w+)/.exec(readFileSync(entry, 'utf8'));
  return m ? ['--runtime', m[1]] : [];
}

/** The limit declaration an entry asks for, as JSON text, or null (no `// @limits` line). */
function limitsOf(entry) {
  const m = /^\/\/ @limits\b(.*)$/m.exec(readFileSync(entry, 'utf8'));
  if (!m) return null;
  const declared = {};
  for (const word of m[1]
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      const path = word.endsWith('.json') ? word : `assembly/limits/${word}.json`;
      Object.assign(declared, JSON.parse(readFileSync(path, 'utf8')));
    } else if (Object.hasOwn(declared, word.slice(0, eq))) {
      declared[word.slice(0, eq)] = {
        ...declared[word.slice(0, eq)],
        default: Number(word.slice(eq + 1)),
      };
    } else {
      throw new Error(`${entry}: @limits sets ${word} before declaring it`);
    }
  }
  return JSON.stringify(declared);
}

/** Unsigned LEB128, as the binary format writes sizes. */
function leb128(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Appends custom section `name` (id 0) holding `text` to the module at `path`. */
function appendCustomSection(path, name, text) {
  const nameBytes = Buffer.from(name);
  const body = Buffer.concat([Buffer.from(leb128(nameBytes.length)), nameBytes, Buffer.from(text)]);
  appendFileSync(path, Buffer.concat([Buffer.from([0]), Buffer.from(leb128(body.length)), body]));
}

let failed = 0;
for (const [entry, target, out] of jobs) {
  const args = [
    entry,
    '--config',
    'asconfig.json',
    '--target',
    target,
    '-o',
    out,
    ...runtimeOf(entry),
  ];
  const { error, stderr } = await asc.main(args);
  if (error) {
    failed++;
    process.stderr.write(
      `asbuild: ${entry} (${target}) failed: ${error.message}\n${stderr.toString()}`,
    );
    continue;
  }
  const limits = limitsOf(entry);
  if (limits !== null) appendCustomSection(out, 'wasmloop.limits', limits);
}
if (failed) process.exit(1);
console.log(`asbuild: ${jobs.length} guests built`);
