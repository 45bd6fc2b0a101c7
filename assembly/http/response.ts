// The response an app writes: status and header lines are staged until the first body bytes
// that do not fit the stage (or end()), then the head goes out with the framing the SDK
// chooses: Content-Length when the whole body is known by then, chunked otherwise (HTTP/1.1),
// or "Connection: close" delimiting (HTTP/1.0). Output the connection cannot take yet waits in
// `spill` and the connection stops reading until it is sent (backpressure).

import { connSpace, connWantDrain, connWrite } from "../socket";
import { ByteBuf } from "./buffers";
import { putAscii, putDecimal, putHex } from "./put";
import { bodiless, reason } from "./status";
import { checkHeader, Reserved, reserved } from "./headers";
import { drainFns } from "./callbacks";
import { Handler } from "./handler";
import { dateLine, DATE_LINE_BYTES } from "./date";

/** Body bytes held back before the head is sent, so that a response ended within them gets a
 *  Content-Length; a larger body is sent chunked (Go's net/http does the same). */
const STAGE_MAX: i32 = 16384;
/** Bytes of header lines a response may stage; more is a handler error. */
const HEAD_MAX: i32 = 16384;
/** Output for one response the peer has not taken yet; a handler that writes past it without
 *  waiting for onDrain has failed, and the connection is aborted. */
const SPILL_MAX: i32 = 4 << 20;

/** What `writable` keeps back for framing: a chunk-size line and its CRLFs. */
const CHUNK_OVERHEAD: i32 = 32;

const LINE: usize = memory.data(256); // status and framing lines, chunk-size lines

export const enum Framed {
  PENDING = 0,
  LENGTH,
  CHUNKED,
  CLOSE,
  NONE,
}

@final
export class Response {
  code: i32 = 200;
  committed: bool = false; // the head has been written
  ended: bool = false; // end() or fail() was called
  failed: bool = false; // fail(): answered 500, or aborted after the head went out
  closeAfter: bool = false; // the connection closes after this response
  declared: i64 = -1; // length(n), or -1
  sent: i64 = 0; // body bytes written since the head
  framed: Framed = Framed.PENDING;
  drainWanted: bool = false; // onDrain() was called and has not run yet
  headOnly: bool = false; // the request was HEAD: no body bytes go out
  awaitsContinue: bool = false; // the client waits for 100 Continue, which was not sent yet
  http10: bool = false;
  keepAlive: bool = true;
  head: ByteBuf = new ByteBuf();
  stage: ByteBuf = new ByteBuf();
  spill: ByteBuf = new ByteBuf();

  constructor(readonly slot: u32) {}

  /** Sets the status, 200-599 (1xx are the SDK's to send); another code fails the response.
   *  No effect once the head is out. */
  status(code: i32): Response {
    if (this.committed || this.ended) return this;
    if (code < 200 || code > 599) this.fail();
    else this.code = code;
    return this;
  }

  /** Adds a header line. The name must be a token and the value free of control characters
   *  (HTAB aside); anything else fails the response. Content-Length sets length(); Connection:
   *  close sets close(); Transfer-Encoding is the SDK's and fails the response. */
  header(name: string, value: string): Response {
    if (this.committed || this.ended) return this;
    const kind = checkHeader(name, value);
    if (kind == Reserved.INVALID || kind == Reserved.TRANSFER_ENCODING) {
      this.fail();
      return this;
    }
    if (kind == Reserved.CONTENT_LENGTH) {
      this.length(reserved.length);
      return this;
    }
    if (kind == Reserved.CONNECTION) {
      if (reserved.close) this.closeAfter = true;
      return this;
    }
    if (!appendLine(this.head, name, value)) this.fail();
    return this;
  }

  /** Declares the body length: the head goes out with it at the first write. Writing more,
   *  or ending with less, aborts the connection. */
  length(n: i64): Response {
    if (!this.committed && n >= 0) this.declared = n;
    return this;
  }

  /** Closes the connection after this response ("Connection: close" if the head is not out). */
  close(): Response {
    this.closeAfter = true;
    return this;
  }

  /** Bytes that can be written now without waiting for the peer; 0 while earlier output waits. */
  get writable(): i32 {
    return this.spill.length > 0 ? 0 : max(0, connSpace(this.slot) - CHUNK_OVERHEAD);
  }

  /** Writes `s` as UTF-8. */
  write(s: string): void {
    const n = encode(s);
    if (n < 0) this.fail();
    else this.writeBytes(scratch.ptr, n);
  }

  /** Writes `len` bytes from `ptr`. */
  writeBytes(ptr: usize, len: i32): void {
    if (this.ended || len <= 0) return;
    if (!this.committed) {
      if (this.declared < 0 && this.stage.length + len <= STAGE_MAX) {
        if (!this.stage.append(ptr, len)) this.fail();
        return;
      }
      this.commit(this.declared);
    }
    this.body(ptr, len);
  }

  /** Writes `s` (if any) and ends the response. */
  end(s: string = ""): void {
    const n = encode(s);
    if (n < 0) this.fail();
    else this.endBytes(scratch.ptr, n);
  }

  /** Writes `len` bytes from `ptr` (if any) and ends the response. */
  endBytes(ptr: usize, len: i32): void {
    if (this.ended) return;
    if (!this.committed)
      this.commit(this.declared >= 0 ? this.declared : <i64>this.stage.length + len);
    this.body(ptr, len);
    if (this.ended) return;
    if (this.framed == Framed.LENGTH && this.sent != this.declared) {
      this.abort();
      return;
    }
    if (this.framed == Framed.CHUNKED && !this.headOnly)
      this.emit(LINE, putAscii(LINE, "0\r\n\r\n"));
    this.ended = true;
  }

  /** The handler failed: 500 if the head has not gone out, else the connection is aborted
   *  (the client sees a short body). */
  fail(): void {
    if (this.ended) return;
    if (this.committed) {
      this.abort();
      return;
    }
    this.refuse(500);
    this.failed = true;
  }

  /** `fn(req, res)` runs once, when the output written so far has been sent: to stream a
   *  large body, write while `writable > 0`, then continue in `fn`. */
  onDrain(fn: Handler): void {
    drainFns[this.slot] = fn;
    this.drainWanted = true;
    connWantDrain(this.slot);
  }

  /** SDK: answers `code` with an empty body and "Connection: close", dropping what was staged. */
  refuse(code: i32): void {
    this.head.clear();
    this.stage.clear();
    this.code = code;
    this.closeAfter = true;
    this.commit(0);
    this.ended = true;
  }

  /** SDK: ends a response whose head is out without completing it; the connection closes. */
  abort(): void {
    this.failed = true;
    this.ended = true;
    this.closeAfter = true;
  }

  /** SDK: tells a client waiting with "Expect: 100-continue" to send the body. */
  sendContinue(): void {
    this.awaitsContinue = false;
    this.emit(LINE, putAscii(LINE, "HTTP/1.1 100 Continue\r\n\r\n"));
  }

  /** SDK: moves waiting output to the connection; true when none is left. */
  pump(): bool {
    const s = this.spill;
    if (s.length == 0) return true;
    s.consume(connWrite(this.slot, s.data, s.length));
    if (s.length > 0) connWantDrain(this.slot);
    return s.length == 0;
  }

  /** SDK: readies the slot's response for a new request. */
  begin(headOnly: bool, http10: bool, keepAlive: bool, awaitsContinue: bool = false): void {
    this.awaitsContinue = awaitsContinue;
    this.code = 200;
    this.committed = false;
    this.ended = false;
    this.failed = false;
    this.closeAfter = !keepAlive;
    this.declared = -1;
    this.sent = 0;
    this.framed = Framed.PENDING;
    this.drainWanted = false;
    this.headOnly = headOnly;
    this.http10 = http10;
    this.keepAlive = keepAlive;
    this.head.clear();
    this.stage.clear();
  }

  /** Writes the head for a body of `total` bytes (-1: not known yet), then the staged body. */
  private commit(total: i64): void {
    // A final answer before the client was told to continue: it may or may not send the body,
    // so the connection cannot be reused (RFC 9110 10.1.1).
    if (this.awaitsContinue) this.closeAfter = true;
    if (bodiless(this.code)) this.framed = Framed.NONE;
    else if (total >= 0) {
      this.framed = Framed.LENGTH;
      this.declared = total;
    } else if (!this.http10) this.framed = Framed.CHUNKED;
    else {
      this.framed = Framed.CLOSE;
      this.closeAfter = true;
    }
    let n = putAscii(LINE, "HTTP/1.1 ");
    n += putDecimal(LINE + <usize>n, <u64>this.code);
    store<u8>(LINE + <usize>n, 0x20);
    n++;
    n += putAscii(LINE + <usize>n, reason(this.code));
    n += putAscii(LINE + <usize>n, "\r\n");
    this.emit(LINE, n);
    this.emit(dateLine(), DATE_LINE_BYTES);
    this.emit(this.head.data, this.head.length);
    this.head.clear();
    this.emit(LINE, framingLines(this, total));
    this.committed = true;
    const staged = this.stage;
    if (staged.length > 0) this.body(staged.data, staged.length);
    staged.clear();
  }

  /** Body bytes after the head, framed as chosen. */
  private body(ptr: usize, len: i32): void {
    if (len <= 0 || this.ended) return;
    this.sent += len;
    if (this.framed == Framed.LENGTH && this.sent > this.declared) {
      this.abort();
      return;
    }
    if (this.headOnly || this.framed == Framed.NONE) return;
    if (this.framed == Framed.CHUNKED) {
      let n = putHex(LINE, <u64>len);
      n += putAscii(LINE + <usize>n, "\r\n");
      this.emit(LINE, n);
      this.emit(ptr, len);
      this.emit(LINE, putAscii(LINE, "\r\n"));
    } else this.emit(ptr, len);
  }

  /** Output, in order: to the connection while it has room, then to the spill. */
  private emit(ptr: usize, len: i32): void {
    if (len <= 0) return;
    const s = this.spill;
    if (s.length == 0) {
      const n = connWrite(this.slot, ptr, len);
      ptr += <usize>n;
      len -= n;
      if (len == 0) return;
    }
    if (s.length + len > SPILL_MAX || !s.append(ptr, len)) {
      this.abort();
      return;
    }
    connWantDrain(this.slot);
  }
}

/** A shared buffer for encoding strings; reused, never given back. */
const scratch = new ByteBuf();

/** Encodes `s` as UTF-8 into `scratch`; its length, or -1 past the memory cap. */
function encode(s: string): i32 {
  const n = String.UTF8.byteLength(s);
  scratch.reset();
  if (n == 0) return 0;
  if (!scratch.reserve(n)) return -1;
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, scratch.ptr);
  return n;
}

/** "Content-Length" or "Transfer-Encoding", the Connection line, and the empty line. */
function framingLines(r: Response, total: i64): i32 {
  let n = 0;
  if (r.framed == Framed.LENGTH) {
    n += putAscii(LINE, "Content-Length: ");
    n += putDecimal(LINE + <usize>n, <u64>total);
    n += putAscii(LINE + <usize>n, "\r\n");
  } else if (r.framed == Framed.CHUNKED) {
    n += putAscii(LINE, "Transfer-Encoding: chunked\r\n");
  }
  if (r.closeAfter) n += putAscii(LINE + <usize>n, "Connection: close\r\n");
  else if (r.http10) n += putAscii(LINE + <usize>n, "Connection: keep-alive\r\n");
  n += putAscii(LINE + <usize>n, "\r\n");
  return n;
}

/** "name: value\r\n", UTF-8, into the staged head; false past HEAD_MAX. */
function appendLine(b: ByteBuf, name: string, value: string): bool {
  const n = name.length + 2 + String.UTF8.byteLength(value) + 2;
  if (b.length + n > HEAD_MAX || !b.reserve(n)) return false;
  let at = b.ptr + <usize>b.end;
  at += <usize>putAscii(at, name);
  at += <usize>putAscii(at, ": ");
  at += String.UTF8.encodeUnsafe(changetype<usize>(value), value.length, at);
  putAscii(at, "\r\n");
  b.end += n;
  return true;
}
