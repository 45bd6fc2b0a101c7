/**
 * The checks at the end of each round of a property run (test/props/runner.ts): the
 * guest's counters against what its peers did, and the timeouts against who fell silent.
 */
import type { LoopStats } from '../../host/guest/loop.ts';
import { PropertyFailure, type ScriptedPeer } from './peer.ts';

/** How late after its idle timeout a silent peer may be closed: the sweep's precision (50 ms),
 *  the last tick's step, the time the guest took to read what the peer wrote before falling
 *  silent, and a linger (2 s) if the guest ended it meanwhile. */
const SILENT_SLACK_MS = 3000;

/** A stat's growth over the round. */
type Growth = (k: keyof LoopStats) => number;
type Fail = (what: string) => never;

/** `s` and `before`: the loop's stats now and at the round's start; `idle`: its idle timeout. */
export function checkRound(
  round: number,
  s: LoopStats,
  before: LoopStats,
  openFds: number,
  idle: number,
  peers: ScriptedPeer[],
): void {
  const d: Growth = (k) => s[k] - before[k];
  const fail: Fail = (what) => {
    throw new PropertyFailure(`round ${round}: ${what} (stats ${JSON.stringify(s)})`);
  };
  const n = peers.length;
  if (s.open !== 0) fail(`${s.open} connections still open after every peer was closed`);
  if (s.buffersInUse !== 0)
    fail(`${s.buffersInUse} pooled buffers still lent out with no connection open`);
  if (openFds !== 0) fail(`${openFds} connection descriptors left open`);
  if (d('accepted') !== n || d('closed') !== n)
    fail(`${n} peers, but ${d('accepted')} accepted and ${d('closed')} closed`);
  checkUnits(d, fail, peers);
  checkTimeouts(d, fail, peers, idle);
  const sent = peers.reduce((a, p) => a + (p.peer?.received ?? 0), 0);
  if (d('bytesOut') !== sent)
    fail(`bytesOut grew by ${d('bytesOut')} but the peers were sent ${sent}`);
}

/** protocolErrors against the refused peers, requests against the model's units. */
function checkUnits(d: Growth, fail: Fail, peers: ScriptedPeer[]): void {
  // Peers that reset or fell silent may not have sent all their input: only bounds hold.
  const partial = (p: ScriptedPeer) => p.reset || p.plan.ending === 'silent';
  const refusedMin = peers.filter((p) => p.ex.refused && !partial(p)).length;
  const refusedMax = peers.filter((p) => p.ex.refused).length;
  if (d('protocolErrors') < refusedMin || d('protocolErrors') > refusedMax) {
    fail(
      `protocolErrors grew by ${d('protocolErrors')}, expected ${refusedMin === refusedMax ? refusedMin : `${refusedMin}..${refusedMax}`}`,
    );
  }
  if (!peers.some(partial) && peers.every((p) => p.ex.units !== undefined)) {
    const units = peers.reduce((a, p) => a + (p.ex.units ?? 0), 0);
    if (d('requests') !== units) fail(`requests grew by ${d('requests')}, expected ${units}`);
  }
}

/** Timeouts fire only for peers that fell silent or stalled, and silent ones are closed in
 *  time (`idle`: the idle timeout). */
function checkTimeouts(d: Growth, fail: Fail, peers: ScriptedPeer[], idle: number): void {
  // A peer that fell silent, or that stalled its reading for seconds (longer than HTTP's
  // keep-alive timeout) with nothing more to send, is idle as the server sees it and may be
  // timed out. Whether that cost a byte is the byte-exact checks' business.
  const silent = peers.filter((p) => p.plan.ending === 'silent');
  const mayTimeOut =
    silent.length + peers.filter((p) => p.plan.ending !== 'silent' && p.plan.longStall > 0).length;
  if (d('timeouts') > mayTimeOut)
    fail(
      `${d('timeouts')} timeouts fired, though only ${mayTimeOut} peers fell silent or stalled and the others kept making progress`,
    );
  for (const p of silent) {
    const since = Math.max(p.silentSince, p.acceptedAt, p.lastReadAt);
    if (p.closedAt - since > idle + SILENT_SLACK_MS) {
      fail(
        `peer ${p.id} was last active at ${since} ms (its last write, accept or read) but was closed only at ${p.closedAt} ms (idle timeout ${idle} ms)`,
      );
    }
  }
}
