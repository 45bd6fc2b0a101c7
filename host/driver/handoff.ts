/**
 * Connections between two guest instances (saved from a trap, not yet adopted: host/guest/salvage.ts)
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
  /** Where each listed fd is (this thread's own view, so drop() need not scan). */
  private readonly at = new Map<number, number>();
  /** Where the next free slot is looked for: slots are taken and freed roughly in order, so
   *  a trap that saves n connections costs O(n), not O(n^2). */
  private cursor = 0;

  constructor(private readonly slots: Int32Array) {}

  /** Lists `fd` (no-op when the array is full: the fd could then leak only if the thread is
   *  killed before it is adopted or closed). */
  hold(fd: number): void {
    const n = this.slots.length;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      if (this.slots[i] !== -1) continue;
      this.slots[i] = fd;
      this.at.set(fd, i);
      this.cursor = (i + 1) % n;
      return;
    }
  }

  /** Unlists `fd`; call before closing it or once another table lists it. */
  drop(fd: number): void {
    const i = this.at.get(fd);
    if (i === undefined) return;
    this.at.delete(fd);
    this.slots[i] = -1;
  }
}
