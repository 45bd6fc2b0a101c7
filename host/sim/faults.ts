/**
 * Fault-injection knobs of the simulated kernel. All are off by default; probabilities are
 * per call, in [0, 1], and every random draw comes from the kernel's seeded PRNG, so a run is
 * reproducible from its seed. A knob that is 0 or undefined draws nothing from the PRNG.
 *
 * `SimKernel.faults` is this object and may be changed at any time during a test.
 */
export interface SimFaults {
  /** Each recv returns at most this many bytes (short reads). 0/undefined: no cap. */
  maxRecv?: number;
  /** Each send takes at most this many bytes (short writes). 0/undefined: no cap. */
  maxSend?: number;
  /** Probability that a recv returns a random length in 1..n instead of n. */
  shortRead?: number;
  /** Probability that a send takes a random length in 1..n instead of n. */
  shortWrite?: number;
  /**
   * Probability that a recv with data, or a send with window space, fails with -EAGAIN
   * anyway. The socket stays ready: it is re-queued on its epoll ready lists (even under
   * EPOLLET), so a later epollWait reports it again.
   */
  eagain?: number;
  /**
   * Probability, per epollWait with room left, of one extra EPOLLIN for a random registration
   * with EPOLLIN interest, ready or not (a listener's accept then gives -EAGAIN, a
   * connection's recv -EAGAIN).
   */
  spurious?: number;
  /** Probability, per epollWait, that the ready list is rotated by a random amount. */
  reorder?: number;
}
