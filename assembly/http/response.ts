// The response an app writes: status and header lines are staged until the first body bytes
// that do not fit the stage (or end()), then the head goes out with the framing the SDK
// chooses: Content-Length when the whole body is known by then, chunked otherwise (HTTP/1.1),
// or "Connection: close" delimiting (HTTP/1.0). Output the connection cannot take yet waits in
// `spill` and the connection stops reading until it is sent (backpressure).

import { connReserve, connWantDrain, connWriteAll, connWrote } from "../socket";
import { HeadLines } from "./head-lines";
import { ByteBuf } from "./buffers";
import { asciiLength, putAscii, putAsciiString, putHex } from "./put";
import { bodiless } from "./status";
import { Reserved, reserved } from "./headers";
import { drainFns } from "./callbacks";
import { Handler } from "./handler";
import { checkHeaderCached } from "./literal-lines";
import { encode, Framed, headScratch, putHead, scratch } from "./response-head";
import { isLiteral, keep, KEPT, keptFor, keptTextBytes } from "./whole-response";

/** Body bytes held back before the head is sent, so that a response ended within them gets a
 *  Content-Length; a larger body is sent chunked (Go's net/http does the same). */
const STAGE_MAX: i32 = 16384;

const LINE: usize = memory.data(256); // status and framing lines, chunk-size lines

@final
export class Response extends HeadLines {
  code: i32 = 200;
  committed: bool = false; // the head has been written
  declared: i64 = -1; // length(n), or -1
  sent: i64 = 0; // body bytes written since the head
  framed: Framed = Framed.PENDING;
  drainWanted: bool = false; // onDrain() was called and has not run yet
  headOnly: bool = false; // the request was HEAD: no body bytes go out
  awaitsContinue: bool = false; // the client waits for 100 Continue, which was not sent yet
  http10: bool = false;
  keepAlive: bool = true;
  stage: ByteBuf = new ByteBuf();

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
    const kind = checkHeaderCached(name, value);
    if (kind == Reserved.NONE) {
      if (!this.addLine(name, value)) this.fail();
    } else if (kind == Reserved.CONTENT_LENGTH) this.length(reserved.length);
    else if (kind == Reserved.CONNECTION) {
      if (reserved.close) this.closeAfter = true;
    } else this.fail(); // invalid, or Transfer-Encoding
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
    if (!this.committed && !this.ended && this.endWhole(s)) return;
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
    this.forgetLines(true);
    this.stage.clear();
    this.code = code;
    this.closeAfter = true;
    this.commit(0);
    this.ended = true;
  }

  /** SDK: tells a client waiting with "Expect: 100-continue" to send the body. */
  sendContinue(): void {
    this.awaitsContinue = false;
    this.emit(LINE, putAscii(LINE, "HTTP/1.1 100 Continue\r\n\r\n"));
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
    this.forgetLines(false); // head's block stays for the next response (slots.ts frees it)
    this.stage.clear();
  }

  /** The usual end(): with nothing staged or waiting, the head and the body in one piece
   *  straight into the output (false, nothing done, if it has no room or framing says
   *  otherwise). Inlined: the kept response's test and copy cost no call of their own. */
  // @ts-ignore: decorator
  @inline private endWhole(s: string): bool {
    if (this.stage.length != 0 || this.spill.length != 0) return false;
    const fixed = this.isFixed(s);
    if (fixed) {
      const len = keptFor(this.code, this.lits, s, this.shape());
      if (len > 0 && connWriteAll(this.slot, KEPT, len)) {
        // No decide() or forgetLines(): once ended only `sent` and the flags are read.
        this.committed = true;
        this.sent = keptTextBytes;
        this.ended = true;
        return true;
      }
    }
    return this.endFormatted(s, fixed);
  }

  /** Every part fixed: the whole response may be the one kept (whole-response.ts). */
  // @ts-ignore: decorator
  @inline private isFixed(s: string): bool {
    return isLiteral(s) && this.head.length == 0 && this.declared < 0 && !this.awaitsContinue;
  }

  /** endWhole() past the kept response: the head formatted, the text encoded in place after
   *  it (no copy through `scratch`); `fixed` as endWhole found it, kept if it is. */
  private endFormatted(s: string, fixed: bool): bool {
    const shape = fixed ? this.shape() : 0;
    const lits = this.lits; // putHead forgets them
    const ascii = asciiLength(s); // the usual text: no UTF-8 to work out
    const n = ascii >= 0 ? ascii : String.UTF8.byteLength(s);
    if (this.declared >= 0 && this.declared != <i64>n) return false;
    const body = this.headOnly || bodiless(this.code) ? 0 : n;
    const at = connReserve(this.slot, this.headBytes() + body);
    if (at == 0) return false;
    this.decide(n);
    const k = this.putHead(at, n);
    if (body > 0 && ascii >= 0) putAsciiString(at + <usize>k, s);
    else if (body > 0) String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, at + <usize>k);
    if (fixed) keep(at, k + body, this.code, lits, s, shape, n);
    connWrote(this.slot, k + body);
    this.committed = true;
    this.sent = n;
    this.ended = true;
    return true;
  }

  /** What shapes a response's bytes besides its status, lines and text. */
  private shape(): i32 {
    return (this.headOnly ? 1 : 0) | (this.closeAfter ? 2 : 0) | (this.http10 ? 4 : 0);
  }

  /** Chooses the framing for a body of `total` bytes (-1: not known yet). */
  private decide(total: i64): void {
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
  }

  /** Writes the head at `at` (see putHead) and drops the staged header lines. */
  private putHead(at: usize, total: i64): i32 {
    const h = this.head;
    const n = putHead(
      this.code,
      this.framed,
      this.closeAfter,
      this.http10,
      this.lits,
      h,
      total,
      at,
    );
    this.forgetLines(false);
    return n;
  }

  /** Writes the head for a body of `total` bytes (-1: not known yet), then the staged body:
   *  formatted in the output when it has room, else in headScratch() and emitted from there. */
  private commit(total: i64): void {
    this.decide(total);
    const need = this.headBytes();
    const at = this.spill.length == 0 ? connReserve(this.slot, need) : 0;
    if (at != 0) connWrote(this.slot, this.putHead(at, total));
    else {
      const p = headScratch(need);
      if (p == 0) {
        this.abort();
        return;
      }
      this.emit(p, this.putHead(p, total));
    }
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
}
