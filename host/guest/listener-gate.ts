/**
 * The host's own hold on max-connections (docs/SECURITY.md). The handle table refuses a
 * connection past the limit (accept returns -EAGAIN, no accept(2) is made); this gate then
 * takes the instance's listeners out of the epoll set, so that a guest which ignores the
 * refusal, or never closes, cannot make the host spin on a level-triggered listener that is
 * always readable. Clients past the limit wait in the listen backlog (where the kernel keeps
 * them until it is full, then lets further SYNs go unanswered, so clients retry), never
 * accepted-then-dropped. When a connection of the instance closes, the listeners come back
 * with the interest and token the guest last asked for: a watch() on a paused listener is
 * recorded, not applied.
 */
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, type Fd, type Kernel } from '../kernel/contract.ts';
import { Kind, type HandleTable } from './handles.ts';

export class ListenerGate {
  /** True while the listeners are out of the epoll set because the limit is reached. */
  paused = false;
  /** What the guest last asked for each listener index: [events, token_lo, token_hi]. */
  private readonly asked = new Map<number, [number, number, number]>();

  /** `listeners`: the table indices of the instance's listeners (a handful: pausing and
   *  resuming never walk the whole table, which may hold a million indices). */
  constructor(
    private readonly handles: HandleTable,
    private readonly kernel: Kernel,
    private readonly epfd: Fd,
    private readonly listeners: readonly number[],
  ) {}

  /** Records a watch() on listener `index`; true when it must not be applied now (paused). */
  holds(index: number, events: number, lo: number, hi: number): boolean {
    this.asked.set(index, [events, lo, hi]);
    return this.paused;
  }

  /** The connection limit is reached: every listener leaves the epoll set. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const t = this.handles;
    for (const i of this.listeners) {
      if (t.kindAt(i) !== Kind.Listener || !t.isWatched(i)) continue;
      this.kernel.epollCtl(this.epfd, EPOLL_CTL_DEL, t.fdAt(i), 0, 0, 0);
      t.setWatched(i, false);
    }
  }

  /** A connection closed (here or in a retiring instance of the same loop): below the limit,
   *  the listeners get back what the guest asked for. */
  resume(): void {
    if (!this.paused || !this.handles.belowLimit) return;
    this.paused = false;
    this.restore(this.listeners);
  }

  /** A reload starts: the listeners leave the epoll set while the next instance starts (it
   *  registers the same fds). Returns those that left, for `restore` if that instance fails. */
  suspend(): number[] {
    const t = this.handles;
    const left = this.listeners.filter((i) => t.kindAt(i) === Kind.Listener && t.isWatched(i));
    for (const i of left) {
      this.kernel.epollCtl(this.epfd, EPOLL_CTL_DEL, t.fdAt(i), 0, 0, 0);
      t.setWatched(i, false);
    }
    return left;
  }

  /** Puts listeners back with the interest and token the guest last asked for. */
  restore(indices: readonly number[]): void {
    const t = this.handles;
    for (const i of indices) {
      const [events, lo, hi] = this.asked.get(i) ?? [0, 0, 0];
      if (t.kindAt(i) !== Kind.Listener || events === 0) continue;
      t.setWatched(i, true); // before the syscall: a flag that may be set is safe, see watch()
      if (this.kernel.epollCtl(this.epfd, EPOLL_CTL_ADD, t.fdAt(i), events, lo, hi) !== 0)
        t.setWatched(i, false);
    }
  }
}
