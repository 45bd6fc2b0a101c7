// Where an incremental head scan (scan.ts) stands: its state and the offsets it has found, kept
// per connection between calls so that a head arriving in pieces is checked once in total.

import { Field } from "./early";

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

/** Where a scan stands. Offsets are from the first byte of the head. */
@final
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
  seen: i32 = 0; // SEEN_* bits: framing fields met so far in the header section
  trailer: bool = false;
  digits: i32 = 0; // Content-Length digits so far
  length: i64 = 0; // their value
  lengthEnd: bool = false; // whitespace after the digits: no digit may follow
  /** Where a head's field lines are indexed as they pass (fields.ts), or 0 for none. */
  table: usize = 0;

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
