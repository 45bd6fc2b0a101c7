/**
 * `--baseline ID=DIR[,FLAG...]`: another wasmloop checkout, built in DIR (an older commit in a
 * `git worktree`, say), measured as extra rows beside this build's in the same run: its own
 * CLI (`DIR/bin/wasmloop.js run`) and its own echo and hello guests, with the same load, the
 * same alternation and the same windows as every other server. FLAGs are added to its command
 * line (`--baseline old-main=/work/wt-old,--workers,0` runs the loop on the main thread).
 *
 * Why: on a shared VM a ratio to C moves between days, so "did this build get slower" is only
 * answered by running the old build and the new one side by side, alternating, in one run.
 * The baseline is run from DIR as it is, not from a snapshot: do not rebuild DIR meanwhile.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { wasmloopServer, type Kind, type ServerContext, type ServerDef } from './servers.ts';

const GUESTS: Record<Exclude<Kind, 'https'>, string> = { echo: 'echo', http: 'hello' };

/** The rows of every `--baseline` spec (one echo and one HTTP row each). */
export function baselineServers(ctx: ServerContext, specs: string[]): ServerDef[] {
  return specs.flatMap((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--baseline ${spec}: expected ID=DIR[,FLAG...]`);
    const [dir = '', ...flags] = spec.slice(eq + 1).split(',');
    const id = `wasmloop@${spec.slice(0, eq)}`;
    const label = `wasmloop ${commitOf(dir)}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`;
    return (['echo', 'http'] as const).map((kind) => {
      // Builds before the guests moved to wasm/ kept them in build/.
      const name = `${GUESTS[kind]}.wasm`;
      const guest = existsSync(join(dir, 'wasm', name)) ? `wasm/${name}` : `build/${name}`;
      const problem = existsSync(join(dir, guest)) ? null : `no ${guest} in ${dir}: build it`;
      const baseCtx = { ...ctx, wasmloopRoot: dir, wasmloopProblem: problem };
      return wasmloopServer(baseCtx, kind, guest, { id, label, flags });
    });
  });
}

/** DIR's commit, short, for the row's label (or DIR itself when it is not a git checkout). */
function commitOf(dir: string): string {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : dir;
}
