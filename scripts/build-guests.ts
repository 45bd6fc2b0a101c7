// Compiles every guest with the AssemblyScript compiler, in this one process:
//   assembly/apps/NAME.ts -> wasm/NAME.wasm (release) and wasm/debug/NAME.wasm (debug)
//   test/guests/NAME.ts   -> wasm/test/NAME.wasm and wasm/debug/test/NAME.wasm (guests that
//                            misbehave on purpose, for the sandbox tests)
// Each is built by host/tools/build.ts, the code behind `wasmloop build`: asconfig.json's
// targets and options, the entry's `// @runtime` and `// @limits` lines, and (for the apps) the
// checks `wasmloop run` makes. The core and the shipped protocol guests allocate nothing per
// request and stay on the `stub` runtime; apps that allocate per request say `incremental`.
//
// A guest whose output is newer than every file it may depend on is not rebuilt (as make
// would), so `npm test`'s pretest after `npm ci`'s prepare costs nothing. The inputs are
// counted coarsely — all of assembly/, the guest's own directory, the compiler's options and
// version, and the host code behind the build and its checks — so an edit never leaves a stale
// guest; `--force` rebuilds everything. With many guests to build, the work is split over one
// process per core (`--shard=I/N` builds every Nth job from the Ith), as make -j would.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
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

/** The newest modification time of `path` or of any file under it (0 if it is missing). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's time
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const SHARED_INPUTS = [
  'assembly',
  'asconfig.json',
  'host',
  'scripts/build-guests.ts',
  'node_modules/assemblyscript/package.json',
];
const sharedNewest = Math.max(...SHARED_INPUTS.map(newestMtime));
const newestInput = new Map<string, number>();
const force = process.argv.includes('--force');

/** True when `job`'s output exists and is newer than everything it may depend on. */
function upToDate(job: Job): boolean {
  if (force || !existsSync(job.out)) return false;
  const dir = job.entry.slice(0, job.entry.lastIndexOf('/'));
  if (!newestInput.has(dir)) newestInput.set(dir, Math.max(sharedNewest, newestMtime(dir)));
  return statSync(job.out).mtimeMs > newestInput.get(dir)!;
}

/** Builds the stale jobs among `mine`; returns how many it built, exits 1 if any failed. */
async function buildStale(mine: Job[]): Promise<number> {
  let failed = 0;
  let built = 0;
  for (const job of mine) {
    if (upToDate(job)) continue;
    built++;
    try {
      await buildGuest(job);
    } catch (err) {
      failed++;
      const target = job.debug ? 'debug' : 'release';
      process.stderr.write(`asbuild: ${job.entry} (${target}) failed: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exit(1);
  return built;
}

/** Runs this script once per shard in child processes; resolves true if all succeeded. */
async function buildInShards(shards: number): Promise<boolean> {
  const script = process.argv[1]!;
  const flags = force ? ['--force'] : [];
  const runs = Array.from({ length: shards }, (_, i) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, script, `--shard=${i}/${shards}`, ...flags],
      {
        stdio: 'inherit',
      },
    );
    return new Promise<boolean>((done) => child.on('close', (code) => done(code === 0)));
  });
  return (await Promise.all(runs)).every(Boolean);
}

const shard = /^--shard=(\d+)\/(\d+)$/.exec(
  process.argv.find((a) => a.startsWith('--shard=')) ?? '',
);
const stale = jobs.filter((job) => !upToDate(job)).length;
const shards = Math.min(availableParallelism(), 4);
if (shard) {
  const [index, count] = [Number(shard[1]), Number(shard[2])];
  await buildStale(jobs.filter((_, i) => i % count === index));
} else if (stale >= 8 && shards > 1) {
  if (!(await buildInShards(shards))) process.exit(1);
  console.log(
    `asbuild: ${stale} guests built by ${shards} processes, ${jobs.length - stale} up to date`,
  );
} else {
  const built = await buildStale(jobs);
  console.log(`asbuild: ${built} guests built, ${jobs.length - built} up to date`);
}
