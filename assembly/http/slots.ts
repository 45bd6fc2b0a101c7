// Each connection's Request and Response. A read of an idle connection borrows the pool's top
// pair (lend); the connection keeps it only if the read leaves it holding something (a partial
// head, output waiting, an onDrain pending, a body to come), and gives it back once it waits
// for the next request with nothing held, so an idle keep-alive connection holds no SDK state
// at all: 10,000 idle connections cost the core's table and no more. Pairs are
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
  readyNext(0);
}

/** No pair is lent: a slot number no connection has. */
const NOT_LENT: u32 = 0xffffffff;
/** The pair the next read of an idle connection borrows (lend), outside the pool: reading it
 *  takes two globals, and a read that leaves it holding nothing (every keep-alive request
 *  answered at once) gives it back by doing nothing. Set in slotsInit, never null after. */
let readyRequest = changetype<Request>(0);
let readyResponse = changetype<Response>(0);
/** The slot the ready pair is lent to, during that httpData call only; a trap leaves it set,
 *  so the dead instance's salvage still finds the culprit's pair. */
let lentSlot: u32 = NOT_LENT;

/** The slot's request, or null while the connection is idle between requests. */
export function requestAt(slot: u32): Request | null {
  const held = unchecked(requests[slot]);
  if (held !== null || slot != lentSlot) return held;
  return readyRequest;
}

/** The slot's response; only while requestAt(slot) is not null. */
export function responseAt(slot: u32): Response {
  const held = unchecked(responses[slot]);
  if (held !== null || slot != lentSlot) return held!;
  return readyResponse;
}

/** The request the slot holds between reads, or null (then httpData lends it one). */
// @ts-ignore: decorator
@inline export function heldRequest(slot: u32): Request | null {
  return unchecked(requests[slot]);
}

/** The slot's held response; only while heldRequest(slot) is not null. */
// @ts-ignore: decorator
@inline export function heldResponse(slot: u32): Response {
  return unchecked(responses[slot])!;
}

/** Lends the ready pair to the slot for one read; the response is lentResponse(). It is as a
 *  new request, waiting for a head with its scan reset and no body deadline: releaseIdle and
 *  endLoan give back no other. */
// @ts-ignore: decorator
@inline export function lend(slot: u32): Request {
  const req = readyRequest;
  req.slot = slot;
  readyResponse.slot = slot;
  lentSlot = slot;
  return req;
}

/** The response lent with lend()'s request. */
// @ts-ignore: decorator
@inline export function lentResponse(): Response {
  return readyResponse;
}

/** The read is over: the lent pair stays ready if it holds nothing, else the slot keeps it (a
 *  partial head, output waiting, an onDrain, a body to come) and the pool readies another. */
// @ts-ignore: decorator
@inline export function endLoan(
  slot: u32,
  req: Request,
  res: Response,
): void {
  lentSlot = NOT_LENT;
  if (holdsNothing(req, res))
    req.forgetCallbacks(); // a ready request registered none
  else keepLent(slot, req, res);
}

function keepLent(slot: u32, req: Request, res: Response): void {
  unchecked((requests[slot] = req));
  unchecked((responses[slot] = res));
  readyNext(slot);
}

/** The ready pair from the pool, or a new one (the pool is empty only while every pair made
 *  so far belongs to a connection: pairs never outnumber connections + 1). */
function readyNext(slot: u32): void {
  if (spares > 0) {
    spares--;
    readyRequest = unchecked(spareRequests[spares])!;
    readyResponse = unchecked(spareResponses[spares])!;
  } else {
    readyRequest = new Request(slot);
    readyResponse = new Response(slot);
  }
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
    req.phase = Phase.HEAD; // as lend() gives a pooled request out
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
