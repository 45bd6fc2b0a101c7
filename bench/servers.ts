/**
 * The servers compared. Each scenario run starts its server fresh on CPU 0, waits until the
 * port accepts, and stops it (with its whole process tree) at the end.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Program } from './build.ts';
import { nginxSetup } from './nginx.ts';
import { httpsServers } from './tls.ts';
import { SERVER_CPU, start, stop, waitForPort, type Proc } from './procs.ts';
import type { Tools } from './tools.ts';

export type Kind = 'echo' | 'http' | 'https';

export interface ServerDef {
  /** Short id, unique within a kind: wasmloop, wasmloop-uv, c, node, nginx. */
  id: string;
  label: string;
  kind: Kind;
  /** Why it cannot run here, or null. */
  unavailable: string | null;
  /** The command line for a server on 127.0.0.1:port, and what to clean up after it.
   *  `keepIdle`: configure it never to close idle connections (the idle-memory scenario);
   *  otherwise it runs with its defaults. */
  command(port: number, keepIdle: boolean): { cmd: string; args: string[]; cleanup?: () => void };
  /** False: left out of --quick runs unless named with --servers (default true). */
  inQuick?: boolean;
  /** False: left out of the idle-memory runs, where it would repeat another row (default true). */
  inIdle?: boolean;
  /** The only scenarios it runs in (default: every scenario of its kind). */
  scenarios?: string[];
}

export interface RunningServer {
  def: ServerDef;
  port: number;
  proc: Proc;
  cleanup?: () => void;
}

export interface ServerContext {
  root: string;
  /** Where the wasmloop build is run from: a snapshot of root's build (bench/snapshot.ts). */
  wasmloopRoot: string;
  tools: Tools;
  bins: Record<Program, string> | null;
  /** Why the wasmloop build cannot be used, or null. */
  wasmloopProblem: string | null;
}

/** The wasmloop artifacts the bench runs: the bundled CLI, the native shim and the guests. */
export const WASMLOOP_ARTIFACTS = [
  'dist/cli.js',
  'build/Release/wasmloop.node',
  'wasm/echo.wasm',
  'wasm/hello.wasm',
  'wasm/greet.wasm',
];
/** The WASI command the bench runs: committed, built by examples/c-echo/build.sh. */
export const WASI_ECHO = 'examples/c-echo/echo.wasm';

/** Null when every wasmloop artifact exists; otherwise what is missing. */
export function checkWasmloopBuild(root: string): string | null {
  const missing = WASMLOOP_ARTIFACTS.filter((f) => !existsSync(join(root, f)));
  if (missing.length > 0) {
    return `missing ${missing.join(', ')}: run \`npm run build\` (and \`npm run build:native\` for the shim)`;
  }
  return null;
}

/** A way of running the wasmloop CLI: the row's id, label and run choices, and the CLI flags
 *  that make it. */
export type WasmloopVariant = Pick<ServerDef, 'id' | 'label' | 'inQuick' | 'inIdle'> & {
  flags: string[];
};

/** The CLI as it runs by default: one loop on a worker thread under the watchdog, blocking
 *  driver. */
const CLI_DEFAULT: WasmloopVariant = { id: 'wasmloop', label: 'wasmloop', flags: [] };
/** The libuv driver on the calling thread, as createLoop({ workers: 0 }) runs it for trusted
 *  guests: the epoll fd nested in libuv's, woken through uv_poll. (--workers 0 meant the main
 *  thread before the worker default, too.) Full runs only; the driver does not change memory. */
const LIBUV_DRIVER: WasmloopVariant = {
  id: 'wasmloop-uv',
  label: 'wasmloop (libuv driver)',
  flags: ['--workers', '0', '--driver', 'libuv'],
  inQuick: false,
  inIdle: false,
};

/** The CLI's default run of an app written with the HTTP SDK (`http.serve`). */
const SDK_APP: WasmloopVariant = { id: 'wasmloop-sdk', label: 'wasmloop SDK app', flags: [] };

export function wasmloopServer(
  ctx: ServerContext,
  kind: Kind,
  guest: string,
  variant: WasmloopVariant,
): ServerDef {
  const { flags, ...row } = variant;
  return {
    ...row,
    kind,
    unavailable: ctx.wasmloopProblem,
    command: (port, keepIdle) => ({
      cmd: process.execPath,
      args: [
        join(ctx.wasmloopRoot, 'bin/wasmloop.js'),
        'run',
        join(ctx.wasmloopRoot, guest),
        '--tcplisten',
        `127.0.0.1:${port}`,
        '--grace-ms',
        '200',
        ...flags,
        // A guest is given only the limits it declares (`wasmloop limits`): echo has no keep-alive.
        ...(keepIdle ? keepIdleLimits(kind) : []),
      ],
    }),
  };
}

/** The CLI flags that turn a wasmloop guest's idle timeouts off. */
function keepIdleLimits(kind: Kind): string[] {
  return [
    '-W',
    'idle-timeout-ms=0',
    ...(kind !== 'echo' ? ['-W', 'keepalive-timeout-ms=3600000'] : []),
  ];
}

function cServer(ctx: ServerContext, kind: Kind, program: Program): ServerDef {
  const { bins } = ctx;
  return {
    id: 'c',
    label: 'C epoll',
    kind,
    unavailable: bins ? null : 'no C compiler',
    command: (port) => ({ cmd: bins![program], args: [String(port)] }),
  };
}

/** The WASI comparison (issue 14): one C poll() program, examples/c-echo/echo.c, natively
 *  (built by bench/build.ts) and as the committed wasm32-wasi build under `wasmloop run
 *  --tcplisten`, in echo-1 and echo-50. */
const WASI_SCENARIOS = ['echo-1', 'echo-50'];
const WASI_ROW = { kind: 'echo', scenarios: WASI_SCENARIOS, inIdle: false } as const;

function pollEchoServers(ctx: ServerContext): ServerDef[] {
  const native: ServerDef = {
    ...WASI_ROW,
    id: 'c-poll',
    label: 'C poll() example, native',
    unavailable: ctx.bins ? null : 'no C compiler',
    command: (port) => ({ cmd: ctx.bins!['c-echo-poll'], args: [String(port)] }),
  };
  const wasi: ServerDef = {
    ...WASI_ROW,
    id: 'wasmloop-wasi',
    label: 'C poll() example, wasm32-wasi under wasmloop run',
    unavailable: ctx.wasmloopProblem,
    command: (port) => ({
      cmd: process.execPath,
      args: [
        join(ctx.wasmloopRoot, 'bin/wasmloop.js'),
        'run',
        '--tcplisten',
        `127.0.0.1:${port}`,
        join(ctx.wasmloopRoot, WASI_ECHO),
      ],
    }),
  };
  return [native, wasi];
}

function nodeServer(ctx: ServerContext, kind: Kind, label: string, file: string): ServerDef {
  return {
    id: 'node',
    label,
    kind,
    unavailable: null,
    command: (port, keepIdle) => ({
      cmd: process.execPath,
      args: [
        join(ctx.root, 'bench/servers', file),
        String(port),
        ...(keepIdle ? ['--keep-idle'] : []),
      ],
    }),
  };
}

function nginxServer(ctx: ServerContext): ServerDef {
  const { nginx } = ctx.tools;
  return {
    id: 'nginx',
    label: 'nginx',
    kind: 'http',
    unavailable: nginx ? null : 'nginx not installed',
    command: (port) => {
      const setup = nginxSetup(port);
      return {
        cmd: nginx!,
        args: setup.args,
        cleanup: () => rmSync(setup.prefix, { recursive: true, force: true }),
      };
    },
  };
}

/** Every server compared, in the order of the report's rows: one entry per row, so a new server
 *  or variant is one more line here. */
export function serverDefs(ctx: ServerContext): ServerDef[] {
  return [
    wasmloopServer(ctx, 'echo', 'wasm/echo.wasm', CLI_DEFAULT),
    wasmloopServer(ctx, 'echo', 'wasm/echo.wasm', LIBUV_DRIVER),
    cServer(ctx, 'echo', 'echo-server'),
    nodeServer(ctx, 'echo', 'node:net', 'node-echo.js'),
    ...pollEchoServers(ctx),
    wasmloopServer(ctx, 'http', 'wasm/hello.wasm', CLI_DEFAULT),
    wasmloopServer(ctx, 'http', 'wasm/hello.wasm', LIBUV_DRIVER),
    // What users run: an app on the HTTP SDK (assembly/apps/greet.ts), beside the hand-written hello.
    wasmloopServer(ctx, 'http', 'wasm/greet.wasm', SDK_APP),
    cServer(ctx, 'http', 'http-server'),
    nodeServer(ctx, 'http', 'node:http', 'node-http.js'),
    nginxServer(ctx),
    ...httpsServers(ctx), // bench/tls.ts: hello.wasm behind wasmloop's TLS, nginx over TLS
  ];
}

/** Starts `def` on `port` (CPU 0) and waits until the port accepts connections. */
export async function startServer(
  def: ServerDef,
  port: number,
  root: string,
  keepIdle = false,
): Promise<RunningServer> {
  const { cmd, args, cleanup } = def.command(port, keepIdle);
  const proc = start(`${def.label} (${def.kind})`, SERVER_CPU, cmd, args, { cwd: root });
  const server: RunningServer = { def, port, proc, ...(cleanup ? { cleanup } : {}) };
  try {
    await waitForPort(port, proc);
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  return server;
}

export async function stopServer(s: RunningServer): Promise<void> {
  try {
    await stop(s.proc);
  } finally {
    s.cleanup?.();
  }
}

/** Files under `dir` (recursively) whose name ends with `ext`. */
function sources(dir: string, ext: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => f.endsWith(ext))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Notes for artifacts older than their sources: the build may not be current (other work may
 *  be editing the sources while the bench runs; the bench measures what is built). */
export function staleness(root: string): string[] {
  const notes: string[] = [];
  const guests = Math.max(...sources(join(root, 'assembly'), '.ts').map(mtime), 0);
  const host = Math.max(...sources(join(root, 'host'), '.ts').map(mtime), 0);
  for (const g of WASMLOOP_ARTIFACTS.filter((f) => f.endsWith('.wasm'))) {
    if (mtime(join(root, g)) < guests)
      notes.push(
        `${g} is older than assembly/ sources: run \`npm run asbuild\` for a current build`,
      );
  }
  if (mtime(join(root, 'dist/cli.js')) < host)
    notes.push(
      'dist/cli.js is older than host/ sources: run `node scripts/build-host.js` for a current build',
    );
  return notes;
}
