/**
 * Connections between two guest instances (saved from a trap, not yet adopted: host/salvage.ts)
 * belong to no handle table, so a worker pool that must kill the thread would not find them in
 * the handle registry. This mirrors them in a second shared array the pool also reclaims.
 *
 * Invariant (the same as the handle registry's): an fd is listed here from before it leaves
 * the trapped instance's table until after it is in the next instance's table, and is unlisted
 * before it is closed. An fd may so be listed in both arrays for a moment (the pool closes each
 * number once), but a listed fd is never a closed one, so a kill can never make the pool close
 * a number another thread has reused. Not on the hot path: only traps use it.
 */
export class Handoff {
  constructor(private readonly slots: Int32Array) {}

  /** Lists `fd` (no-op when the array is full: the fd could then leak only if the thread is
   *  killed before it is adopted or closed). */
  hold(fd: number): void {
    const free = this.slots.indexOf(-1);
    if (free >= 0) this.slots[free] = fd;
  }

  /** Unlists `fd`; call before closing it or once another table lists it. */
  drop(fd: number): void {
    const at = this.slots.indexOf(fd);
    if (at >= 0) this.slots[at] = -1;
  }
}
