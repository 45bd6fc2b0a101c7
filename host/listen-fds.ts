/**
 * `wasmloop run --listenfd`: the listening sockets a supervisor passes by systemd's socket
 * activation protocol (sd_listen_fds(3)), as wasmtime's `--listenfd` took them. LISTEN_PID is
 * the pid they are meant for, LISTEN_FDS how many, and they are fds 3, 4, ...; LISTEN_FDNAMES
 * (optional) names them. The fds are only numbers here: host/listeners.ts `adoptListeners`
 * checks that each is a listening socket.
 */
import { WasmloopError } from './errors.ts';

/** The first inherited fd: SD_LISTEN_FDS_START. */
export const LISTEN_FDS_START = 3;
/** More than any supervisor passes; a bigger LISTEN_FDS is a mistake, not a request. */
const MAX_LISTEN_FDS = 1024;

/** The variables of the protocol, removed from our environment once read (sd_listen_fds with
 *  unset_environment): nothing started later mistakes the fds for its own. */
const LISTEN_VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/** The inherited fds (3, 4, ...) that `env` (default: ours, then cleared of the variables) describes for
 *  process `pid`. ERR_WASMLOOP_USAGE when they are not for us, or missing or malformed. */
export function inheritedListenFds(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): number[] {
  const { LISTEN_PID: forPid, LISTEN_FDS: count, LISTEN_FDNAMES: names } = env;
  for (const name of LISTEN_VARIABLES) delete env[name];
  if (forPid === undefined) listenFdUsage('LISTEN_PID is not set: no sockets were passed');
  if (!/^[1-9]\d*$/.test(forPid)) listenFdUsage(`LISTEN_PID=${forPid} is not a process id`);
  if (Number(forPid) !== pid)
    listenFdUsage(`LISTEN_PID=${forPid} is another process's (this is ${pid})`);
  if (count === undefined) listenFdUsage('LISTEN_FDS is not set');
  if (!/^[1-9]\d*$/.test(count) || Number(count) > MAX_LISTEN_FDS)
    listenFdUsage(`LISTEN_FDS=${count} is not a count of sockets (1 to ${MAX_LISTEN_FDS})`);
  const n = Number(count);
  // The names are not used (a guest's listeners are numbered), but as sd_listen_fds_with_names
  // a count that does not match says the variables were not set for these fds.
  const named = names?.split(':').length ?? n;
  if (named !== n) listenFdUsage(`LISTEN_FDNAMES has ${named} names for LISTEN_FDS=${n}`);
  return Array.from({ length: n }, (_, i) => LISTEN_FDS_START + i);
}

function listenFdUsage(message: string): never {
  throw new WasmloopError('ERR_WASMLOOP_USAGE', `--listenfd: ${message}`);
}
