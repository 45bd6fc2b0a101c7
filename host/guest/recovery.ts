/**
 * What a Loop (host/guest/loop.ts) does after a guest trap, apart from its tick: which
 * connections wait for the next instance, whether the trap counts toward `maxRestarts`, and
 * how long the restart waits.
 *
 * A trap ends the instance. Before it goes, it is asked which connections can be saved
 * (host/guest/salvage.ts): the one whose code trapped gets the guest's trap reply (an HTTP 500)
 * if nothing of its answer went out, and those between requests move to the next instance. A
 * trap the guest can pin on one connection is that request's failure: the next instance starts
 * at once and the trap does not count toward `maxRestarts`, so no client can stop the server
 * by sending requests that trap; it counts against its peer's trap budget instead
 * (host/guest/peer-guard.ts), so no client can keep killing the others' requests either. Other
 * traps (start-up, periodic ticks, ...) count, with back-off (host/guest/restart-budget.ts).
 */
import { WasmloopError } from '../errors.ts';
import type { GuestTrap } from './env.ts';
import type { LoopOptions } from './loop-options.ts';
import type { PeerGuard } from './peer-guard.ts';
import { RestartBudget } from './restart-budget.ts';
import type { Handover, Salvaged } from './salvage.ts';

export class TrapRecovery {
  /** Connections saved from a trapped instance, waiting for the next one. */
  private handovers: Handover[] = [];
  private readonly budget: RestartBudget;
  private lastTrapAt = -Infinity;

  constructor(
    private readonly opts: Pick<LoopOptions, 'kernel' | 'handoff' | 'maxRestarts'>,
    private readonly guard: PeerGuard,
    private readonly now: () => number,
  ) {
    this.budget = new RestartBudget(opts.maxRestarts);
  }

  /** Keeps what a trapped instance saved (null: it was not asked, the loop is draining) and
   *  charges the culprit's peer; connections of peers that are now blocked are closed. Returns
   *  how many were closed. */
  keep(saved: Salvaged | null): number {
    this.handovers.push(...(saved?.handovers ?? []));
    if (saved !== null && saved.culprit) this.guard.trapOn(saved.culpritPeer);
    return this.guard.dropBlocked(this.handovers, (fd) => this.opts.handoff?.drop(fd));
  }

  /** Counts the trap unless a connection caused it (`culprit`). Returns how long the restart
   *  waits, or -1 when traps in a row have spent the budget. */
  restartDelay(culprit: boolean): number {
    if (culprit) return 0;
    const at = this.now();
    this.budget.fail(this.lastTrapAt, at);
    this.lastTrapAt = at;
    return this.budget.allowsRestart ? this.budget.delayMs() : -1;
  }

  /** The loop's failure once the budget is spent. */
  givingUp(trap: GuestTrap): WasmloopError {
    return new WasmloopError(
      'ERR_WASMLOOP_RESTARTS',
      `guest trapped ${this.budget.count} times in a row; giving up. Last trap: ${trap.message}`,
      { cause: trap },
    );
  }

  /** True while saved connections wait for an instance. */
  get waiting(): boolean {
    return this.handovers.length > 0;
  }

  /** The next saved connection for the new instance to adopt. */
  next(): Handover | undefined {
    return this.handovers.shift();
  }

  /** Closes the connections still waiting for an instance (the loop is ending); returns how
   *  many. */
  dropAll(): number {
    const dropped = this.handovers.splice(0);
    for (const h of dropped) {
      this.opts.handoff?.drop(h.fd);
      this.opts.kernel.close(h.fd);
    }
    return dropped.length;
  }
}
