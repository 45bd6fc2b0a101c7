// The body-progress deadline, after Apache mod_reqtimeout's `RequestReadTimeout body=20,MinRate=500`:
// a request body has body-timeout-ms from the end of its head, and every body byte received
// extends that by 1000 / body-min-rate ms, with no upper bound (as in mod_reqtimeout, where
// only the body size limit bounds it). A client that trickles its body slower than the rate
// runs out of time within the initial timeout plus what it sent; an honest upload faster than
// the rate never does. What firing does is server.ts httpTimeout's business (408 or a close).

import { connNow, connSetTimeout } from "../conn";
import { Body } from "./framing";
import { bodyMsPerByte, bodyTimeoutMs } from "./limits";
import { Request } from "./request";

/** Arms the deadline when a head is complete. A request without a body only clears the
 *  protocol deadline, as before: no cost on the body-less path. */
export function startBodyDeadline(req: Request, body: Body): void {
  const on = body != Body.NONE && bodyTimeoutMs > 0;
  req.bodyDeadline = on ? connNow() + bodyTimeoutMs : 0;
  connSetTimeout(req.slot, on ? bodyTimeoutMs : 0);
}

/** `n` more body bytes were consumed (for a chunked body, its framing and trailers count
 *  too: they are what a trickling client would send): the deadline moves on by n / rate s. */
export function extendBodyDeadline(req: Request, n: i32): void {
  if (req.bodyDeadline == 0 || bodyMsPerByte == 0 || n <= 0) return;
  req.bodyDeadline += <f64>n * bodyMsPerByte;
  // Past due even with these bytes: the armed deadline stands and fires in this dispatch's
  // sweep. (Re-arming from now would let a byte per sweep keep the body alive forever.)
  if (req.bodyDeadline > connNow()) connSetTimeout(req.slot, req.bodyDeadline - connNow());
}
