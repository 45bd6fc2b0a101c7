/**
 * The `wasmloop` command. `wasmloop run` is shaped like `wasmtime run`: options first, then the
 * module, then the guest's own arguments. Every failure is one line on stderr and a distinct
 * exit status (EXIT below, also listed by --help).
 */
import { readFileSync } from 'node:fs';
import { parseRunArgs, usage } from './cli-args.ts';
import { runWasiCommand, serveGuest } from './cli-run.ts';
import { WasmloopError, type WasmloopErrorCode } from './errors.ts';
import { HOST_LIMITS, limitHelp, limitsOf, UNDECLARED_GUEST_LIMITS } from './limits.ts';
import { isWasmloopGuest, loadModule } from './module.ts';
import { buildCommand } from './tools/build.ts';
import { initCommand } from './tools/init.ts';

/** Exit statuses, one per kind of failure. */
export const EXIT = {
  ok: 0,
  usage: 64, // bad command line
  notWasm: 65, // the file is not a WebAssembly module
  noInput: 66, // the module file cannot be read
  notGuest: 67, // neither a wasmloop guest nor a WASI command, other ABI version, or imports the host lacks
  startFailed: 68, // the guest failed in wl_init, trapped or ran away (watchdog) while starting
  trapped: 70, // the guest trapped (or its thread died) more times in a row than the restart budget; a WASI command trapped
  listen: 71, // a --tcplisten address could not be bound, or a --listenfd fd is no listener
  platform: 72, // not Linux, or the native shim is not built
  build: 73, // wasmloop build: the source does not compile
  tls: 74, // a TLS certificate or key cannot be read, does not match, or has expired
} as const;

/** Every code has a status: a code added to host/errors.ts without one is a compile error. */
export const CODE_TO_EXIT: Record<WasmloopErrorCode, number> = {
  ERR_WASMLOOP_USAGE: EXIT.usage,
  ERR_WASMLOOP_ADDRESS: EXIT.usage,
  ERR_WASMLOOP_LIMIT: EXIT.usage,
  ERR_WASMLOOP_NOT_WASM: EXIT.notWasm,
  ERR_WASMLOOP_MODULE_READ: EXIT.noInput,
  ERR_WASMLOOP_DIR: EXIT.noInput,
  ERR_WASMLOOP_NOT_COMMAND: EXIT.notGuest,
  ERR_WASMLOOP_MEMORY: EXIT.notGuest,
  ERR_WASMLOOP_ABI: EXIT.notGuest,
  ERR_WASMLOOP_IMPORT: EXIT.notGuest,
  ERR_WASMLOOP_INIT: EXIT.startFailed,
  ERR_WASMLOOP_RELOAD: EXIT.startFailed, // only embedders see it: a failed SIGHUP keeps serving
  ERR_WASMLOOP_TRAP: EXIT.startFailed,
  ERR_WASMLOOP_RESTARTS: EXIT.trapped,
  ERR_WASMLOOP_WORKER: EXIT.trapped,
  ERR_WASMLOOP_EPOLL: EXIT.trapped,
  ERR_WASMLOOP_LISTEN: EXIT.listen,
  ERR_WASMLOOP_PLATFORM: EXIT.platform,
  ERR_WASMLOOP_NATIVE: EXIT.platform,
  ERR_WASMLOOP_BUILD: EXIT.build,
  ERR_WASMLOOP_TLS: EXIT.tls,
};

export const HELP = `wasmloop: a sandboxed network event loop (protocol logic in WebAssembly)

Usage:
  wasmloop run [OPTIONS] <module.wasm> [OPTIONS] [-- ARGS...]
  wasmloop limits <module.wasm>     the limits that module takes, with their defaults
  wasmloop build <entry.ts> [-o OUT.wasm] [--debug] [--runtime NAME]
                                    compile an AssemblyScript guest with wasmloop's options
                                    (default OUT: the entry's name with .wasm), check it as run
                                    does, then write it
  wasmloop init <dir>               write a minimal app, its test and npm scripts into <dir>
  wasmloop --help | --version

Runs a wasmloop guest (a module exporting wl_abi_version_1) on the given listeners until
SIGINT or SIGTERM, then stops accepting, lets open connections finish for up to the grace
period, closes them and exits 0. A second signal closes at once. The listening addresses are
printed on stderr. Options may come before or after the module; other words after the
module, and everything after --, are the guest's WASI arguments.

A plain WASI preview1 command (a module that exports _start and no wl_abi_version_*) runs
once instead, like wasmtime run: its arguments, --env, --dir, --tcplisten and --listenfd
(listeners preopened as fds 3, 4, ..., before --dir), and the host's stdin, stdout and
stderr; wasmloop exits with the command's exit code, or 70 after one line if it traps. Guest
arguments that start with - go after --. See docs/WASI.md.

Options:
  --tcplisten HOST:PORT   Listen on HOST:PORT and hand the listener to the guest (repeatable;
                          listener 0 is the first). Port 0 picks a free port. IPv6: [::1]:8080
  --listenfd              Also serve on the listening sockets systemd socket activation passes
                          (LISTEN_PID = our pid, LISTEN_FDS = N: fds 3 .. 3+N-1), after those
                          of --tcplisten; LISTEN_* are removed from wasmloop's environment
  --env NAME[=VALUE]      Give the guest this WASI environment variable (repeatable); without
                          =VALUE, the host's value of NAME. The guest sees nothing else.
  --grace-ms N            How long in-flight connections may finish on shutdown (default 5000)
  --drain-ms N            After a reload, how long the old guest instance may finish the
                          requests it was serving before they are closed (default 30000).
                          SIGHUP reloads: the module file is read again and replaces the
                          guest without dropping a connection; if it fails (one line on
                          stderr) the old guest serves on
  --watch                 Also reload when the module file changes (for development)
  --max-restarts N        Guest traps in a row tolerated before giving up (default 5);
                          a trap one request caused is answered and not counted
                          (it counts against its client's max-traps-per-peer-minute)
  --workers N             Run N loops, one per worker thread, sharing the ports (SO_REUSEPORT)
                          (default 1). 0: one loop on the main thread, for trusted guests
                          only: no watchdog, and a guest that never returns hangs wasmloop
  --watchdog-ms N         Replace a worker whose guest call (wl_init included: exit 68) runs
                          longer than N ms (default 5000; 0 disables; not with --workers 0)
  --stats                 Print one line a second on stderr: connections, requests/s, bytes/s
  --metrics HOST:PORT     Serve Prometheus metrics (text format 0.0.4) at /metrics on HOST:PORT,
                          a listener of the host that the guest never sees (per worker: a
                          worker label). Port 0 picks a free port; stderr names it
  --tls-cert FILE         Serve TLS on the --tcplisten before it: its certificate (PEM, the
  --tls-key FILE          chain after the leaf) and private key (PEM). The guest sees plaintext
  --tls-sni-cert FILE     More certificates for that listener (repeatable, in pairs), chosen
  --tls-sni-key FILE      when the client's SNI name matches one of their names.
                          SIGHUP reads these files again and swaps them in; connections stay
                          (a bad file: one line on stderr, the old certificates serve on)
  --driver blocking|libuv How each loop waits: blocking (default: our own epoll_wait, like a C
                          server, yielding to Node every 20 ms) or libuv (uv_poll, as embedded)
  -W NAME=VALUE           Set a limit (repeatable). The host's, for every module:
${limitHelp(HOST_LIMITS)}
                          and those the module declares: see \`wasmloop limits MODULE\`
                          (a module that declares none also takes the shipped guests' names)
  --dir HOST[::GUEST]     WASI commands: give the guest the host directory HOST at the path
                          GUEST (default: HOST as written) (repeatable). Implies --wasi node
  --wasi wasmer|node      WASI commands: the WASI implementation. wasmer (the default without
                          --dir): an in-memory filesystem only. node: node:wasi, maps --dir
  -h, --help              Show this help
  -V, --version           Show the version

Exit status:
  0 stopped by a signal   64 bad command line        65 not a WebAssembly module
  66 cannot read module   67 not a wasmloop guest    68 guest failed to start (or ran away)
  70 guest kept trapping  71 cannot listen           72 needs Linux / native shim not built
  73 build: the guest does not compile (a built module that fails run's checks: 67)
  74 a --tls-cert/--tls-key cannot be read, the key does not match, or the cert expired
  A WASI command: its own exit code; 70 if it trapped; 66 a --dir cannot be read; 67 no _start;
  71 a --tcplisten address cannot be bound, or a --listenfd fd is not a listening socket

Examples:
  wasmloop run wasm/echo.wasm --tcplisten 127.0.0.1:9000
  wasmloop run wasm/hello.wasm --tcplisten 0.0.0.0:443 --tls-cert cert.pem --tls-key key.pem
  wasmloop run --dir data::/data tool.wasm -- --in /data/input.txt
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `wasmloop run`: a wasmloop guest is served until a signal; a WASI command runs once. */
async function run(argv: string[]): Promise<number> {
  const opts = parseRunArgs(argv);
  // Compiled once here to tell a guest from a command; createLoop compiles the bytes again
  // with the memory cap applied (a few milliseconds for a guest-sized module).
  const module = await loadModule(opts.module);
  if (!isWasmloopGuest(module)) return runWasiCommand(module, opts);
  await serveGuest(module, opts);
  return EXIT.ok;
}

/** `wasmloop limits MODULE`: the limits that module takes, read from its declaration without
 *  running it (docs/ABI.md, "Limits"). */
async function printLimits(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0]!.startsWith('-'))
    usage('limits takes one module: wasmloop limits <module.wasm>');
  const { specs, declares } = limitsOf(await loadModule(argv[0]!));
  process.stdout.write(
    `${argv[0]} takes these limits (-W NAME=VALUE), with their defaults:\n${limitHelp(specs)}\n`,
  );
  if (!declares) {
    process.stdout.write(
      `It declares none of its own, so these are accepted too, defaults its own:\n    ${UNDECLARED_GUEST_LIMITS.join(', ')}\n`,
    );
  }
  return EXIT.ok;
}

/** Runs the command line; resolves to the exit status. Errors are reported on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
      process.stdout.write(HELP);
      return cmd === undefined ? EXIT.usage : EXIT.ok;
    }
    if (cmd === '-V' || cmd === '--version') {
      process.stdout.write(`wasmloop ${version()}\n`);
      return EXIT.ok;
    }
    if (cmd === 'limits') return await printLimits(rest);
    if (cmd === 'build') return await buildCommand(rest);
    if (cmd === 'init') return initCommand(rest);
    if (cmd !== 'run') usage(`unknown command '${cmd}'`);
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    return await run(rest);
  } catch (err) {
    process.stderr.write(`wasmloop: ${(err as Error).message}\n`);
    return err instanceof WasmloopError ? CODE_TO_EXIT[err.code] : 1; // 1: a bug, not a failure we name
  }
}
