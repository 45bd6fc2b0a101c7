/**
 * A private copy of the wasmloop build for one bench run, so that every run measures the same
 * build even if the repository is rebuilt while the bench runs (other work on the same tree):
 * bin/, dist/, package.json (for "type": "module"), build/Release/wasmloop.node, the guests and
 * the WASI example, copied under bench/build/snapshot/ with the same layout. Packages still resolve from the
 * repository's node_modules, one level up the directory tree.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WASI_ECHO } from './servers.ts';

export const SNAPSHOT_FILES = [
  'bin',
  'dist',
  'package.json',
  'build/Release/wasmloop.node',
  'wasm/echo.wasm',
  'wasm/hello.wasm',
  'wasm/greet.wasm',
  'wasm/test/keeps-1k.wasm', // the idle method's check (bench/idle.ts)
  WASI_ECHO,
];

/** Copies the build to `dest` (replacing what was there) and returns `dest`. */
export function snapshotBuild(root: string, dest: string): string {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(join(dest, 'build', 'Release'), { recursive: true });
  mkdirSync(join(dest, 'wasm'), { recursive: true });
  for (const f of SNAPSHOT_FILES) {
    if (!existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(join(root, f), join(dest, f), { recursive: true });
  }
  return dest;
}
