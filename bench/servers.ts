/**
 * The servers compared. Each scenario run starts its server fresh on CPU 0, waits until the
 * port accepts, and stops it (with its whole process tree) at the end.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Program } from './build.ts';
import { nginxSetup } from './nginx.ts';
import { SERVER_CPU, start, stop, waitForPort, type Proc } from './procs.ts';
import type { Tools } from './tools.ts';

export type Kind = 'echo' | 'http';

export interface ServerDef {
  /** Short id, unique within a kind: wasmloop, c, node, nginx. */
  id: string;
  label: string;
  kind: Kind;
  /** Why it cannot run here, or null. */
  unavailable: string | null;
  /** The command line for a server on 127.0.0.1:port, and what to clean up after it.
   *  `keepIdle`: configure it never to close idle connections (the idle-memory scenario);
   *  otherwise it runs with its defaults. */
  command(port: number, keepIdle: boolean): { cmd: string; args: string[]; cleanup?: () => void };
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
];

/** Null when every wasmloop artifact exists; otherwise what is missing. */
export function checkWasmloopBuild(root: string): string | null {
  const missing = WASMLOOP_ARTIFACTS.filter((f) => !existsSync(join(root, f)));
  if (missing.length > 0) {
    return `missing ${missing.join(', ')}: run \`npm run build\` (and \`npm run build:native\` for the shim)`;
  }
  return null;
}

export function serverDefs(ctx: ServerContext): ServerDef[] {
  const { root, wasmloopRoot, tools, bins } = ctx;
  const node = process.execPath;
  // The CLI as it runs by default (one loop on a worker thread under the watchdog, blocking
  // driver), and (id wasmloop-uv) the libuv driver on the calling thread, as createLoop({
  // workers: 0 }) runs it for trusted guests: the epoll fd nested in libuv's, woken through
  // uv_poll. (--workers 0 meant the main thread before the worker default, too.)
  const wasmloop = (kind: Kind, guest: string, driver?: string): ServerDef => ({
    id: driver ? 'wasmloop-uv' : 'wasmloop',
    label: driver ? 'wasmloop (libuv driver)' : 'wasmloop',
    kind,
    unavailable: ctx.wasmloopProblem,
    command: (port, keepIdle) => ({
      cmd: node,
      args: [
        join(wasmloopRoot, 'bin/wasmloop.js'),
        'run',
        join(wasmloopRoot, guest),
        '--tcplisten',
        `127.0.0.1:${port}`,
        '--grace-ms',
        '200',
        ...(driver ? ['--workers', '0', '--driver', driver] : []),
        // A guest is given only the limits it declares (`wasmloop limits`): echo has no keep-alive.
        ...(keepIdle
          ? [
              '-W',
              'idle-timeout-ms=0',
              ...(kind === 'http' ? ['-W', 'keepalive-timeout-ms=3600000'] : []),
            ]
          : []),
      ],
    }),
  });
  const cServer = (kind: Kind, program: Program): ServerDef => ({
    id: 'c',
    label: 'C epoll',
    kind,
    unavailable: bins ? null : 'no C compiler',
    command: (port) => ({ cmd: bins![program], args: [String(port)] }),
  });
  const nodeServer = (kind: Kind, label: string, file: string): ServerDef => ({
    id: 'node',
    label,
    kind,
    unavailable: null,
    command: (port, keepIdle) => ({
      cmd: node,
      args: [join(root, 'bench/servers', file), String(port), ...(keepIdle ? ['--keep-idle'] : [])],
    }),
  });
  return [
    wasmloop('echo', 'wasm/echo.wasm'),
    wasmloop('echo', 'wasm/echo.wasm', 'libuv'),
    cServer('echo', 'echo-server'),
    nodeServer('echo', 'node:net', 'node-echo.js'),
    wasmloop('http', 'wasm/hello.wasm'),
    wasmloop('http', 'wasm/hello.wasm', 'libuv'),
    cServer('http', 'http-server'),
    nodeServer('http', 'node:http', 'node-http.js'),
    {
      id: 'nginx',
      label: 'nginx',
      kind: 'http',
      unavailable: tools.nginx ? null : 'nginx not installed',
      command: (port) => {
        const setup = nginxSetup(port);
        return {
          cmd: tools.nginx!,
          args: setup.args,
          cleanup: () => rmSync(setup.prefix, { recursive: true, force: true }),
        };
      },
    },
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
  for (const g of ['wasm/echo.wasm', 'wasm/hello.wasm']) {
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
