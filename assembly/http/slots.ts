// Each connection's Request and Response. A pair is taken from a pool when a request starts to
// arrive and given back when the connection waits for the next one with nothing held (no
// partial head, no output waiting, no onDrain pending), so an idle keep-alive connection holds
// no SDK state at all: 10,000 idle connections cost the core's table and no more. Pairs are
// reused forever (the `stub` runtime never frees); there are never more than connections busy
// at once.

import { maxConnections } from "../socket";
import { Phase, Request } from "./request";
import { Response } from "./response";

let requests = new StaticArray<Request | null>(0);
let responses = new StaticArray<Response | null>(0);
let spareRequests = new StaticArray<Request | null>(0);
let spareResponses = new StaticArray<Response | null>(0);
let spares: i32 = 0;

export function slotsInit(): void {
  const n = maxConnections();
  requests = new StaticArray<Request | null>(n);
  responses = new StaticArray<Response | null>(n);
  spareRequests = new StaticArray<Request | null>(n);
  spareResponses = new StaticArray<Response | null>(n);
}

/** The slot's request, or null while the connection is idle between requests. */
// @ts-ignore: decorator
@inline export function requestAt(slot: u32): Request | null {
  return unchecked(requests[slot]);
}

/** The slot's response; only while requestAt(slot) is not null. */
// @ts-ignore: decorator
@inline export function responseAt(slot: u32): Response {
  return unchecked(responses[slot])!;
}

/** The slot's request, taken from the pool (waiting for a head) if it had none. */
// @ts-ignore: decorator
@inline export function takeRequest(slot: u32): Request {
  const had = unchecked(requests[slot]);
  return had !== null ? had : takeSpare(slot);
}

/** A pooled pair, or a new one, for the slot. A pooled request is as a new one, waiting for a
 *  head with its scan reset and no body deadline: releaseIdle gives back no other. */
function takeSpare(slot: u32): Request {
  let req: Request;
  let res: Response;
  if (spares > 0) {
    spares--;
    req = unchecked(spareRequests[spares])!;
    res = unchecked(spareResponses[spares])!;
    req.slot = slot;
    res.slot = slot;
  } else {
    req = new Request(slot);
    res = new Response(slot);
  }
  unchecked((requests[slot] = req));
  unchecked((responses[slot] = res));
  return req;
}

/** True when the slot's pair holds nothing between requests: no partial head (so its scan is
 *  reset: finish() resets it, and a head is only left at pos 0 once that ran), no output
 *  waiting, no onDrain pending. Its body deadline is 0 then too (settle clears it). */
// @ts-ignore: decorator
@inline export function holdsNothing(req: Request, res: Response): bool {
  return req.phase == Phase.HEAD && req.scan.pos == 0 && res.spill.length == 0 && !res.drainWanted;
}

/** Gives the slot's pair back if the connection holds nothing between requests, or (`closed`)
 *  with its buffers emptied and its request readied for a head. */
export function releaseIdle(slot: u32, closed: bool = false): void {
  const req = unchecked(requests[slot]);
  if (req === null) return;
  const res = unchecked(responses[slot])!;
  if (closed) {
    req.kept.clear(); // whatever the connection held goes back to the buffer pool
    req.collected.clear();
    res.head.clear();
    res.stage.clear();
    res.spill.clear();
    req.phase = Phase.HEAD; // as takeSpare gives a pooled request out
    req.scan.reset();
    req.bodyDeadline = 0;
  } else if (!holdsNothing(req, res)) return;
  giveBack(slot, req, res);
}

/** Puts the slot's pair in the pool; the connection holds none after. */
export function giveBack(slot: u32, req: Request, res: Response): void {
  req.forgetCallbacks(); // its slot's callbacks end with it: a pooled request registered none
  unchecked((spareRequests[spares] = req));
  unchecked((spareResponses[spares] = res));
  spares++;
  unchecked((requests[slot] = null));
  unchecked((responses[slot] = null));
}

/** SalvageFn. The culprit gets the trap reply unless its response has begun (a request that
 *  trapped while its head was parsed has none yet). Another connection moves to a fresh
 *  instance when it waits for a head with nothing of the last response still held here. */
export function salvageSlot(slot: u32, culprit: bool): bool {
  const req = requestAt(slot);
  if (req === null) return true; // idle between requests
  const res = responseAt(slot);
  if (culprit) return req.phase == Phase.HEAD || (req.phase != Phase.CLOSED && !res.committed);
  return req.phase == Phase.HEAD && res.spill.length == 0 && !res.drainWanted;
}
