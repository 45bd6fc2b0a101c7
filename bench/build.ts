/**
 * Builds the bench's C programs (bench/c/*.c, each one file plus headers of bench/c/, and the
 * native build of examples/c-echo/echo.c, the program the WASI scenario runs as wasm) into
 * bench/build/ with `cc -std=c11 -O2 -Wall -Wextra -Werror`, skipping a program whose binary is
 * newer than its .c and every header (any header: which one a program includes is not
 * tracked, and a needless rebuild costs a second).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PROGRAMS = [
  'echo-server',
  'http-server',
  'echo-load',
  'idle-conns',
  'c-echo-poll',
] as const;
export type Program = (typeof PROGRAMS)[number];

/** A program's source: bench/c/NAME.c, except the example built both natively and as wasm. */
function source(benchDir: string, name: Program): string {
  if (name === 'c-echo-poll') return join(benchDir, '..', 'examples', 'c-echo', 'echo.c');
  return join(benchDir, 'c', `${name}.c`);
}

export const CFLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Compiles what is out of date; returns the path of each program. Throws on a compile error. */
export function buildC(benchDir: string, cc: string): Record<Program, string> {
  const out = join(benchDir, 'build');
  mkdirSync(out, { recursive: true });
  const headers = readdirSync(join(benchDir, 'c')).filter((f) => f.endsWith('.h'));
  const header = Math.max(...headers.map((f) => mtime(join(benchDir, 'c', f))));
  const paths = {} as Record<Program, string>;
  for (const name of PROGRAMS) {
    const src = source(benchDir, name);
    const bin = join(out, name);
    paths[name] = bin;
    const built = mtime(bin);
    if (built > mtime(src) && built > header) continue;
    const r = spawnSync(cc, [...CFLAGS, '-o', bin, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc failed for ${src}:\n${r.stderr}`);
    process.stdout.write(`bench: built bench/build/${name}\n`);
  }
  return paths;
}
