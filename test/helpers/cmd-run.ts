/**
 * A stand-in for `wasmloop run` on a WASI command, for test/command.test.ts: runs runCommand()
 * in a process of its own so the guest's stdio are this process's real fds 0, 1 and 2 (pipes
 * the test holds), and exits with the guest's status.
 *
 *   node --import tsx test/helpers/cmd-run.ts [--wasi wasmer|node] [--dir HOST[::GUEST]]...
 *        [--env NAME=VALUE]... [--nonblocking-stdio] <module.wasm> [ARGS...]
 *
 * --nonblocking-stdio first touches process.stdin and process.stdout, which (for pipes) makes
 * libuv set O_NONBLOCK on fds 0 and 1, as any Node program that used them would: the guest's
 * reads and writes then meet EAGAIN, which runCommand must wait out. It exits 98 if the fds
 * did not become non-blocking, so a test relying on it cannot pass vacuously. (Without it, fd 1
 * may be non-blocking anyway: tsx's loader touches process.stdout.)
 *
 * A WasmloopError is printed as `wasmloop: <code>: <message>` and exits 99, so a test can tell
 * a refusal from anything the guest did.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  parseDirOption,
  parseWasiBackend,
  runCommand,
  type CommandOptions,
} from '../../host/command/command.ts';
import { WasmloopError } from '../../host/errors.ts';

function isNonBlocking(fd: number): boolean {
  const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
  return (parseInt(flags, 8) & 0o4000) !== 0; // O_NONBLOCK
}

function makeStdioNonBlocking(): void {
  void process.stdin.fd;
  void process.stdout.fd;
  if (!isNonBlocking(0) || !isNonBlocking(1)) {
    process.stderr.write('cmd-run: stdin/stdout did not become non-blocking\n');
    process.exit(98);
  }
}

function parse(argv: string[]): { path: string; opts: CommandOptions } {
  const opts: CommandOptions = { args: [], env: {}, dirs: [] };
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('--')) {
    const flag = argv[i++]!;
    if (flag === '--nonblocking-stdio') {
      makeStdioNonBlocking();
      continue;
    }
    const value = argv[i++] ?? '';
    if (flag === '--wasi') opts.backend = parseWasiBackend(value);
    else if (flag === '--dir') opts.dirs.push(parseDirOption(value));
    else if (flag === '--env')
      opts.env[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1);
    else throw new Error(`cmd-run: unknown option ${flag}`);
  }
  const path = argv[i]!;
  opts.args = [basename(path), ...argv.slice(i + 1)];
  return { path, opts };
}

let status: number;
try {
  const { path, opts } = parse(process.argv.slice(2));
  status = await runCommand(new WebAssembly.Module(readFileSync(path)), opts);
} catch (err) {
  if (!(err instanceof WasmloopError)) throw err;
  process.stderr.write(`wasmloop: ${err.code}: ${err.message}\n`);
  status = 99;
}
// exit(), as bin/wasmloop.js does: a touched process.stdin would otherwise keep the loop alive.
process.exit(status);
