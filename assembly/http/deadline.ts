// The body-progress deadline, after Apache mod_reqtimeout's `RequestReadTimeout body=20,MinRate=500`:
// a request body has body-timeout-ms from the end of its head, and every body byte received
// extends that by 1000 / body-min-rate ms, with no upper bound (as in mod_reqtimeout, where
// only the body size limit bounds it). A client that trickles its body slower than the rate
// runs out of time within the initial timeout plus what it sent; an honest upload faster than
// the rate never does. When it passes (or a head's deadline does), endLate answers.

import { connEnd, connNow, connSetTimeout } from "../socket";
import { bodyMsPerByte, bodyTimeoutMs } from "./limits";
import { Phase, Request } from "./request";
import { Response } from "./response";

/** Arms the deadline when the head of a request with a body is complete. A request without a
 *  body has none: it keeps the protocol deadline it had (its head's, or keep-alive's) while the
 *  handler runs, so no timer fires during the call; one answered in it gets keep-alive's as it
 *  finishes, and only one left pending clears it (cycle.ts startBodiless): one timer store per
 *  request, not two. */
export function startBodyDeadline(req: Request): void {
  const on = bodyTimeoutMs > 0;
  req.bodyDeadline = on ? connNow() + bodyTimeoutMs : 0;
  connSetTimeout(req.slot, on ? bodyTimeoutMs : 0);
}

/** `n` more body bytes were consumed (for a chunked body, its framing and trailers count
 *  too: they are what a trickling client would send): the deadline moves on by n / rate s.
 *  False when it has passed even so: the caller ends the request now. The core's timer alone
 *  is not enough: it re-counts a protocol deadline each time output drains, so an app that
 *  answers every body piece (an echo) would restart it with every byte a client trickles. */
export function extendBodyDeadline(req: Request, n: i32): bool {
  if (req.bodyDeadline == 0) return true;
  req.bodyDeadline += <f64>n * bodyMsPerByte;
  const left = req.bodyDeadline - connNow();
  if (left <= 0) return false;
  connSetTimeout(req.slot, left);
  return true;
}

/** A head or body did not arrive in time: 408 (RFC 9110 15.5.9) if nothing of the response
 *  has gone out; else a 408 cannot follow the head, so the response is cut short (the client
 *  sees it incomplete, never complete). Then the connection closes (RFC 9112 9.5). */
export function endLate(req: Request, res: Response): void {
  if (!res.committed) res.refuse(408);
  else if (!res.ended) res.abort();
  req.phase = Phase.CLOSED;
  req.bodyDeadline = 0;
  req.kept.clear();
  req.collected.clear();
  connEnd(req.slot);
}
