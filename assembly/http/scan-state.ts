// Where an incremental head scan (scan.ts) stands: its state and the offsets it has found, kept
// per connection between calls so that a head arriving in pieces is checked once in total.

export const enum Head {
  START = 0, // before the method; a CR starts an empty line, which is skipped
  LEAD_LF, // after the CR of an empty line before the request line
  METHOD,
  TARGET,
  PCT1, // after "%" in the target: two hex digits follow
  PCT2,
  VERSION, // "HTTP/" DIGIT "." DIGIT, checked by position
  LINE_LF, // after the CR ending the request line
  FIELD, // at the start of a field line, or of the empty line ending the section
  NAME,
  VALUE,
  LENGTH, // a Content-Length value: OWS 1*15DIGIT OWS, byte by byte
  FIELD_LF, // after the CR ending a field line
  END_LF, // after the CR of the empty line
  DONE,
}

/** The header field whose value is being read: the ones whose value the scanner checks at its
 *  line's CR (early.ts) and reads for framing.ts. */
export const enum Field {
  OTHER = 0,
  HOST,
  CODINGS,
  CONNECTION,
  EXPECT,
}

// Scan.seen: what the header section's framing fields said, gathered as their lines pass (at
// the colon for a name, at the CR for a value) so that framing.ts decides without reading them
// again. A head resumed across calls keeps them with the rest of its Scan.
export const SEEN_LENGTH: i32 = 1; // Content-Length (its value in Scan.length)
export const SEEN_CODINGS: i32 = 2; // Transfer-Encoding
export const SEEN_HOST: i32 = 4;
export const SEEN_CHUNKED: i32 = 8; // "chunked" named; the scanner refuses anything after it
export const SEEN_OTHER_CODING: i32 = 16; // a coding other than chunked (501 if well framed)
export const SEEN_CLOSE: i32 = 32; // Connection: close
export const SEEN_KEEP_ALIVE: i32 = 64; // Connection: keep-alive
export const SEEN_CONTINUE: i32 = 128; // Expect: 100-continue, in an HTTP/1.1 request

/** Where a scan stands. Offsets are from the first byte of the head. Unmanaged (no object
 *  header, never collected): the SDK keeps one in each pooled Request, hello one per slot in a
 *  block of its own (proto/hello.ts). */
@final
@unmanaged
export class Scan {
  state: Head = Head.START;
  pos: i32 = 0; // bytes checked so far
  method: i32 = 0; // offset of the method (after skipped empty lines)
  target: i32 = 0; // offset of the request-target
  version: i32 = 0; // offset of the HTTP-version
  fields: i32 = 0; // field lines seen
  major: i32 = 0;
  minor: i32 = 0;
  name: i32 = 0; // offset of the current field name, then of its value
  kind: Field = Field.OTHER; // the header field whose value is being read
  seen: i32 = 0; // SEEN_* bits: framing facts met so far in the header section
  digits: i32 = 0; // Content-Length digits so far
  length: i64 = 0; // their value (SEEN_LENGTH: the request's Content-Length)
  // The flags last, together: no padding between fields (hello keeps one per slot).
  trailer: bool = false;
  lengthEnd: bool = false; // whitespace after the digits: no digit may follow

  reset(): void {
    this.state = Head.START;
    this.pos = 0;
    this.fields = 0;
    this.seen = 0;
    this.trailer = false;
  }

  /** Starts a trailer section (RFC 9112 7.1.2): field lines only, same syntax and limits. */
  resetFields(): void {
    this.state = Head.FIELD;
    this.pos = 0;
    this.fields = 0;
    this.seen = 0;
    this.trailer = true;
  }
}
