// Tokens are the 64-bit epoll `data` the guest hands to watch() and gets back in events.
//
//   63                 32 31                  0
//   +-------------------+---------------------+
//   | token_hi: gen     | token_lo: index     |
//   +-------------------+---------------------+
//
// gen == 0 marks a listener (index = listener number). A connection's gen is its slot's
// generation, which is never 0 and changes every time the slot is closed, so an event that
// was queued for an earlier occupant of the slot no longer matches and is dropped as stale.

/** token_hi of every listener token. */
export const LISTENER_GEN: u32 = 0;

/** The generation that follows `gen`, skipping the listener marker 0 on wrap-around. */
export function nextGen(gen: u32): u32 {
  const next = gen + 1;
  return next == LISTENER_GEN ? 1 : next;
}
