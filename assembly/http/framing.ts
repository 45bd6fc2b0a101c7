// What a complete head means (RFC 9112 6, 9.3; RFC 9110 7.2, 10.1.1): the version, the
// target's form, how the body is framed, whether the connection stays open, and whether the
// client waits for "100 Continue". Everything that could let two parsers disagree about where
// a request ends is refused (request smuggling): Content-Length with Transfer-Encoding, a
// repeated or non-numeric Content-Length, chunked not last or twice, Transfer-Encoding in
// HTTP/1.0; the scanner refuses each at the byte that proves it (scan.ts, early.ts), and
// records the rest of what the framing fields said for frame() to decide from. Allocates
// nothing.

import { bytes, equals } from "../bytes";
import { maxBodyBytes } from "./limits";
import {
  Scan,
  SEEN_CHUNKED,
  SEEN_CLOSE,
  SEEN_CODINGS,
  SEEN_CONTINUE,
  SEEN_HOST,
  SEEN_KEEP_ALIVE,
  SEEN_LENGTH,
  SEEN_OTHER_CODING,
} from "./scan-state";
import { parseTarget, Target } from "./target";

export const enum Body {
  NONE = 0,
  LENGTH,
  CHUNKED,
}

/** A request's framing and connection facts, decided once its head is complete. */
@final
export class Framing {
  body: Body = Body.NONE;
  length: i64 = 0; // Body.LENGTH: the declared length
  keepAlive: bool = true;
  expectContinue: bool = false;
  http10: bool = false;
  head: bool = false; // a HEAD request: its response has no body
  connect: bool = false; // a CONNECT request: no tunnels here, the connection closes after
  target: Target = new Target();
}

const CONNECT = bytes("CONNECT");
const OPTIONS = bytes("OPTIONS");
const HEAD = bytes("HEAD");

/** Decides the framing of the complete head at p, scanned into `s`. The field lines are not
 *  read again: the scanner recorded what they said as they passed (Scan.seen, Scan.length) and
 *  refused there every field that was malformed, repeated or in conflict (scan.ts, early.ts).
 *  Returns 0, or the status to refuse the head with: 400, 413, 501 or 505. */
export function frame(f: Framing, s: Scan, p: usize): i32 {
  if (s.major != 1 || s.minor > 1) return 505;
  f.http10 = s.minor == 0;
  const method = p + <usize>s.method;
  const methodLen = s.target - 1 - s.method;
  // The three methods that matter here by their length first: GET's costs two compares.
  let connect = false;
  let options = false;
  let head = false;
  if (methodLen == 4) head = equals(method, methodLen, HEAD);
  else if (methodLen == 7) {
    connect = equals(method, methodLen, CONNECT);
    options = !connect && equals(method, methodLen, OPTIONS);
  }
  f.connect = connect;
  f.head = head;
  if (parseTarget(f.target, p, s.target, s.version - 1 - s.target, connect, options) != 0)
    return 400;
  return decide(f, s.seen, s.length);
}

function decide(f: Framing, seen: i32, length: i64): i32 {
  if (seen == SEEN_HOST && !f.http10 && !f.connect) {
    // The usual HTTP/1.1 request: Host and no other framing field, so no body, and the
    // connection stays open (what the general path below decides from these bits).
    f.body = Body.NONE;
    f.length = 0;
    f.expectContinue = false;
    f.keepAlive = true;
    return 0;
  }
  if ((seen & SEEN_HOST) == 0 && !f.http10) return 400; // RFC 9112 3.2
  f.body = Body.NONE;
  f.length = 0;
  // What the scanner already refused is checked again where it costs a bit test: the framing
  // of a body is where two parsers must never disagree (request smuggling).
  if ((seen & SEEN_CODINGS) != 0) {
    if (f.http10 || (seen & SEEN_LENGTH) != 0) return 400; // RFC 9112 6.1, 6.3
    if ((seen & SEEN_CHUNKED) == 0) return 400; // RFC 9112 6.3: chunked last (and once)
    if ((seen & SEEN_OTHER_CODING) != 0) return 501; // a coding we do not decode
    f.body = Body.CHUNKED;
  } else if ((seen & SEEN_LENGTH) != 0) {
    if (length > maxBodyBytes) return 413;
    f.length = length;
    if (length > 0) f.body = Body.LENGTH;
  }
  if (f.connect && f.body != Body.NONE) return 400; // CONNECT has no content
  // An expectation other than 100-continue was 417 at its line's CR; HTTP/1.0's are ignored.
  f.expectContinue = (seen & SEEN_CONTINUE) != 0 && f.body != Body.NONE;
  const close = (seen & SEEN_CLOSE) != 0;
  f.keepAlive = !close && !f.connect && (!f.http10 || (seen & SEEN_KEEP_ALIVE) != 0);
  return 0;
}
