// A request's start and finish: the handler's call once a head is complete, and what follows
// when its body is in and its response has ended (server.ts runs the cycle around these).
//
// A request without a body (the usual GET) has its own start: it needs no body deadline, no
// chunked state, no collected body and no kept head unless the handler leaves it pending, and
// one answered during the call is finished there without settle()'s general checks. What it
// skips holds between requests anyway (settle, reject and endLate leave `kept` and `collected`
// empty and `bodyDeadline` 0), so both starts leave the same state behind.

import { connEnd, connSetTimeout, count, REQUESTS } from "../socket";
import { Body } from "./framing";
import { startBodyDeadline } from "./deadline";
import { endFns } from "./callbacks";
import { Handler, noHandler } from "./handler";
import { keepAliveTimeoutMs } from "./limits";
import { Phase, Request } from "./request";
import { Response } from "./response";

let handler: Handler = noHandler;

/** The app's handler, called for every request (serve()). */
export function setHandler(h: Handler): void {
  handler = h;
}

/** Calls the handler for the complete head of `headLen` bytes at p. */
export function start(req: Request, res: Response, p: usize, headLen: i32): void {
  count(REQUESTS);
  req.base = p;
  req.table = 0; // indexed if the app reads a field (Request.fieldTable)
  req.received = 0;
  req.forgetCallbacks();
  req.collectMax = -1;
  if (req.framing.body == Body.NONE) startBodiless(req, res, p, headLen);
  else startWithBody(req, res, p, headLen);
}

/** start() for a request without a body: its body is complete before the handler runs. */
function startBodiless(req: Request, res: Response, p: usize, headLen: i32): void {
  const f = req.framing;
  req.left = 0;
  req.complete = true;
  req.phase = Phase.RESPONDING;
  res.begin(f.head, f.http10, f.keepAlive);
  handler(req, res);
  if (req.registered && !res.failed) endFns[req.slot](req, res);
  if (res.ended) {
    finish(req, res);
    return;
  }
  settle(req, res); // unfinished: fails it, unless it waits for onDrain
  if (req.phase == Phase.RESPONDING) {
    // It keeps the protocol deadline it had while the handler ran (deadline.ts); now none.
    connSetTimeout(req.slot, 0);
    if (!req.keep(p, headLen)) res.fail();
  }
}

function startWithBody(req: Request, res: Response, p: usize, headLen: i32): void {
  const f = req.framing;
  startBodyDeadline(req);
  req.left = f.length;
  req.complete = false;
  req.chunked.reset();
  req.phase = Phase.BODY;
  res.begin(f.head, f.http10, f.keepAlive, f.expectContinue);
  handler(req, res);
  if (f.expectContinue) {
    // The client waits before sending the body. If the handler has already answered, the
    // body may or may not come: the connection closes after the response instead.
    if (!res.committed && !res.ended) res.sendContinue();
    else {
      res.closeAfter = true;
      bodyEnd(req, res);
    }
  }
  settle(req, res);
  if (req.phase == Phase.BODY || req.phase == Phase.RESPONDING) {
    if (!req.keep(p, headLen)) res.fail();
  }
}

/** The whole body is in: the body deadline ends and onEnd runs. */
// @ts-ignore: decorator
@inline export function bodyEnd(req: Request, res: Response): void {
  req.complete = true;
  if (req.bodyDeadline != 0) {
    req.bodyDeadline = 0;
    connSetTimeout(req.slot, 0);
  }
  if (req.phase == Phase.BODY) req.phase = Phase.RESPONDING;
  if (!res.failed && req.registered) endFns[req.slot](req, res);
}

/** After any step: a request whose body is in and whose response has ended is finished; one
 *  whose body is in but whose response was left unfinished (no end(), no onDrain) failed. */
export function settle(req: Request, res: Response): void {
  if (req.phase == Phase.CLOSED || req.phase == Phase.HEAD) return;
  if (!res.ended) {
    if (req.phase != Phase.RESPONDING || res.drainWanted) return;
    res.fail();
  }
  // Ended early: the rest of the body is read and discarded, unless the connection closes
  // anyway (the core's lingering close then discards it).
  if (!req.complete && !res.closeAfter) return;
  req.kept.clear();
  req.collected.clear();
  req.bodyDeadline = 0; // the lingering close bounds what is left
  finish(req, res);
}

/** The request is done: the connection closes, or waits for the next head. */
// @ts-ignore: decorator
@inline function finish(req: Request, res: Response): void {
  if (res.closeAfter) {
    req.phase = Phase.CLOSED;
    connEnd(req.slot);
  } else {
    req.phase = Phase.HEAD;
    req.scan.reset();
    connSetTimeout(req.slot, keepAliveTimeoutMs);
  }
}
