/**
 * runCommand in a process of its own, counting the epoll_ctl and epoll_wait calls the command
 * makes, for test/command-epoll.test.ts:
 *
 *   node --import tsx test/helpers/cmd-count.ts <module.wasm> [ARGS...]
 *
 * The command gets one loopback listener (port 0) as fd 3 and this process's stdio; "port P"
 * goes to stderr once it is bound, and "epoll_ctl C epoll_wait W" when the command has ended.
 * Exits with the command's status. The counts are host/command/ready.ts's, which counts every
 * call it makes (the shim's own functions are read-only, so they cannot be wrapped here).
 */
import { readFileSync } from 'node:fs';
import { runCommand } from '../../host/command/command.ts';
import { epollCalls } from '../../host/command/ready.ts';

const [path, ...args] = process.argv.slice(2);

const status = await runCommand(new WebAssembly.Module(readFileSync(path!)), {
  args: ['cmd', ...args],
  env: {},
  dirs: [],
  listen: [{ host: '127.0.0.1', port: 0 }],
  onListening: (addresses) => process.stderr.write(`port ${addresses[0]!.port}\n`),
});
process.stderr.write(`epoll_ctl ${epollCalls.ctl} epoll_wait ${epollCalls.wait}\n`);
process.exit(status);
