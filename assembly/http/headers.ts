// Checking the header lines an app adds to a response, so that no app can split a response
// (CR, LF), smuggle a second framing, or send a field the SDK owns.

import { isTchar } from "./chars";
import { containsLower, sameLower } from "./text";

export const enum Reserved {
  NONE = 0,
  INVALID,
  CONTENT_LENGTH,
  TRANSFER_ENCODING,
  CONNECTION,
}

/** What checkHeader() read from a reserved header's value. */
@final
class ReservedValue {
  length: i64 = -1; // Content-Length
  close: bool = false; // Connection holds "close"
}
export const reserved = new ReservedValue();

/** Classifies a header line an app wants to send: INVALID (a name that is not a token, a value
 *  with control characters other than HTAB, a bad Content-Length), one of the reserved
 *  framing fields, or NONE for an ordinary one. Fills `reserved` for the reserved ones. */
export function checkHeader(name: string, value: string): Reserved {
  if (name.length == 0) return Reserved.INVALID;
  for (let i = 0; i < name.length; i++) {
    const c = <u32>name.charCodeAt(i);
    if (c > 0x7f || !isTchar(c)) return Reserved.INVALID;
  }
  for (let i = 0; i < value.length; i++) {
    const c = <u32>value.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return Reserved.INVALID;
  }
  if (sameLower(name, "content-length")) return contentLength(value);
  if (sameLower(name, "transfer-encoding")) return Reserved.TRANSFER_ENCODING;
  if (sameLower(name, "connection")) {
    reserved.close = containsLower(value, "close");
    return Reserved.CONNECTION;
  }
  return Reserved.NONE;
}

function contentLength(value: string): Reserved {
  if (value.length == 0 || value.length > 15) return Reserved.INVALID;
  let v: i64 = 0;
  for (let i = 0; i < value.length; i++) {
    const d = <i32>value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return Reserved.INVALID;
    v = v * 10 + d;
  }
  reserved.length = v;
  return Reserved.CONTENT_LENGTH;
}
