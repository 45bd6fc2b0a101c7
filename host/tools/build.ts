/**
 * Building a guest: an AssemblyScript entry compiled with wasmloop's compiler options
 * (asconfig.json's `release` or `debug` target and its shared options), the entry's
 * `// @runtime` and `// @limits` lines applied (entry-lines.ts), and the result checked the way
 * `wasmloop run` checks a module (host/module.ts) before anything is written. One source for
 * `wasmloop build` and the project's own scripts/build-guests.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCommand } from '../command/command.ts';
import { WasmloopError } from '../errors.ts';
import { checkLimits } from '../limits.ts';
import { checkGuest, isWasmloopGuest, loadModule } from '../module.ts';
import { buildError, limitsLine, runtimeLine, withLimitsSection } from './entry-lines.ts';

/** The package root: this module runs from source as host/tools/build.ts, or bundled into
 *  dist/cli.js, one level below it. */
const PACKAGE_ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../' : '../', import.meta.url),
);

export interface BuildOptions {
  /** The AssemblyScript entry file. */
  entry: string;
  /** Where the module goes (a debug build's source map goes next to it, as OUT.map). */
  out: string;
  /** asconfig.json's `debug` target (debug info, source map) instead of `release`. */
  debug?: boolean;
  /** The AssemblyScript runtime; wins over the entry's `// @runtime` line (default `stub`). */
  runtime?: string;
  /** Check the module as `wasmloop run` would (default true). Off only for the project's own
   *  test guests, which break the ABI on purpose. */
  check?: boolean;
}

/** What a build wrote. */
export interface BuildResult {
  out: string;
  bytes: number;
  runtime: string;
}

/** Compiles, checks and writes one guest. Throws ERR_WASMLOOP_BUILD with the compiler's
 *  diagnostics (file, line and column) when it does not compile, or the error `wasmloop run`
 *  would give for the module (ERR_WASMLOOP_ABI, ERR_WASMLOOP_IMPORT ...); nothing is written
 *  then. */
export async function buildGuest(options: BuildOptions): Promise<BuildResult> {
  let source: string;
  try {
    source = readFileSync(options.entry, 'utf8');
  } catch (err) {
    throw buildError(`cannot read ${options.entry}: ${(err as Error).message}`);
  }
  const runtime = options.runtime ?? runtimeLine(source) ?? 'stub';
  const limits = limitsLine(source, options.entry, join(PACKAGE_ROOT, 'assembly', 'limits'));
  const files = await compile(options, runtime);
  let module = files.get(resolve(options.out));
  if (module === undefined) throw buildError(`${options.entry}: the compiler wrote no module`);
  if (limits !== null) module = withLimitsSection(module, limits);
  if (options.check !== false) await checkBuilt(module);
  files.set(resolve(options.out), module);
  for (const [path, bytes] of files) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return { out: options.out, bytes: module.byteLength, runtime };
}

/** Runs the compiler; resolves to the files it would write, by absolute path. */
async function compile(options: BuildOptions, runtime: string): Promise<Map<string, Uint8Array>> {
  // Loaded here, not at the top: `wasmloop run` should not load the compiler.
  const { default: asc } = await import('assemblyscript/asc');
  const files = new Map<string, Uint8Array>();
  const args = [
    options.entry,
    ...['--config', join(PACKAGE_ROOT, 'asconfig.json')],
    ...['--target', options.debug === true ? 'debug' : 'release'],
    ...['--outFile', options.out, '--runtime', runtime, '--noColors'],
  ];
  const { error, stderr } = await asc.main(args, {
    writeFile: (name: string, contents: Uint8Array | string, baseDir: string) => {
      const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
      files.set(resolve(baseDir, name), bytes);
    },
  });
  if (error) {
    // The compiler's last line repeats error.message ("FAILURE 1 compile error(s)").
    const diagnostics = stderr
      .toString()
      .replace(/\n*FAILURE .*\s*$/, '')
      .trim();
    throw buildError(`${options.entry} does not compile: ${error.message}\n${diagnostics}`);
  }
  return files;
}

/** The checks `wasmloop run` makes before it serves a module: a guest of ABI v1 with imports
 *  the host provides and a well-formed limit declaration, or a WASI command. */
async function checkBuilt(bytes: Uint8Array): Promise<void> {
  const module = await loadModule(bytes);
  if (!isWasmloopGuest(module)) return checkCommand(module);
  checkGuest(module);
  checkLimits({}, module);
}

/** `wasmloop build <entry.ts> [-o out.wasm] [--debug] [--runtime NAME]`: one line on stderr
 *  naming what was written; resolves to the exit status (0), throws for the CLI to report. */
export async function buildCommand(argv: string[]): Promise<number> {
  const options = parseBuildArgs(argv);
  const built = await buildGuest(options);
  process.stderr.write(
    `wasmloop: built ${built.out} (${built.bytes} bytes, ${options.debug === true ? 'debug' : 'release'}, runtime ${built.runtime})\n`,
  );
  return 0;
}

function parseBuildArgs(argv: string[]): BuildOptions {
  const usage = (message: string): never => {
    throw new WasmloopError('ERR_WASMLOOP_USAGE', `build: ${message} (see wasmloop --help)`);
  };
  let entry: string | undefined;
  let out: string | undefined;
  let runtime: string | undefined;
  let debug = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o' || a === '--out') out = argv[++i] ?? usage(`${a} needs a file`);
    else if (a === '--runtime') runtime = argv[++i] ?? usage('--runtime needs a name');
    else if (a === '--debug') debug = true;
    else if (a.startsWith('-')) usage(`unknown option '${a}'`);
    else if (entry === undefined) entry = a;
    else usage(`one entry file only ('${a}')`);
  }
  if (entry === undefined) return usage('missing the entry file (an AssemblyScript .ts)');
  return { entry, out: out ?? entry.replace(/\.ts$/, '') + '.wasm', debug, runtime };
}
