/**
 * Seeded trouble between ticks of a property run (test/props/runner.ts): accepts that fail
 * (EMFILE and friends) and raw epoll records for stale, live, unused, out-of-range and listener
 * tokens, injected into `epfd`.
 */
import { Errno } from '../../host/errno.ts';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP } from '../../host/kernel/contract.ts';
import type { Random } from '../../host/kernel/sim/random.ts';
import { weighted } from './model.ts';
import type { Profile } from './profile.ts';
import type { TracingKernel } from './tracing.ts';

/** What may go wrong between two ticks, each with the profile's chance: accepts fail, and a
 *  raw epoll record is injected. */
export function chaos(
  rng: Random,
  kernel: TracingKernel,
  epfd: number,
  profile: Profile,
  log?: (line: string) => void,
): void {
  if (rng.chance(profile.acceptFail)) {
    const errno = weighted(rng, [
      [4, Errno.EMFILE],
      [2, Errno.ENFILE],
      [1, Errno.ENOBUFS],
      [1, Errno.ENOMEM],
      [2, Errno.ECONNABORTED],
    ] as const);
    kernel.failAccept(errno, rng.int(1, 3));
    log?.(`accepts fail with errno ${errno}`);
  }
  if (!rng.chance(profile.inject)) return;
  const record = drawRecord(rng, kernel);
  if (record === undefined) return;
  const [lo, hi, events] = record;
  kernel.injectEvent(epfd, events, lo, hi);
  log?.(`inject events=0x${events.toString(16)} token=(${lo}, ${hi})`);
}

/** Any event mask a record may carry. */
const ANY_EVENTS = [
  EPOLLIN,
  EPOLLOUT,
  EPOLLERR | EPOLLHUP,
  EPOLLIN | EPOLLRDHUP,
  EPOLLHUP,
  EPOLLERR,
  EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP,
];

const pick = (rng: Random, choices: readonly number[]) => choices[rng.int(0, choices.length - 1)]!;

/** A record [lo, hi, events] for a seeded kind of token; undefined when there is no token of
 *  that kind now. */
function drawRecord(rng: Random, kernel: TracingKernel): [number, number, number] | undefined {
  switch (
    weighted(rng, [
      [50, 'stale'],
      [25, 'spurious'],
      [10, 'unused'],
      [5, 'range'],
      [10, 'listener'],
    ] as const)
  ) {
    case 'stale': {
      const t = kernel.staleToken(rng);
      return t === undefined ? undefined : [t[0], t[1], pick(rng, ANY_EVENTS)];
    }
    case 'spurious': {
      // readiness that is not there: recv/send will say EAGAIN
      const t = kernel.liveToken(rng);
      if (t === undefined) return undefined;
      return [t[0], t[1], pick(rng, [EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT])];
    }
    case 'unused': // a slot never used yet, any generation
      return [kernel.highestSlot() + 1 + rng.int(0, 3), rng.int(1, 3), pick(rng, ANY_EVENTS)];
    case 'range': // a slot past any table
      return [rng.int(1 << 24, 0xffffffff), rng.int(1, 0xffffffff), pick(rng, ANY_EVENTS)];
    case 'listener': // listener 0 (spurious: accept says EAGAIN) or one that does not exist
      return [rng.next() < 0.5 ? 0 : rng.int(1, 100), 0, pick(rng, [EPOLLIN, EPOLLERR | EPOLLHUP])];
  }
}
