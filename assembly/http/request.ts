// The request an app handles. Its head (method, target, version, fields) is parsed in place in
// the connection's input and read through this object; if the request outlives the call that
// parsed it (its body is still coming, or its response is not finished) the SDK keeps a copy,
// so the accessors stay valid until the response has ended. The string getters allocate; each
// has an allocation-free twin (…Is() compares, …Ptr/…Len give the bytes).

import { ByteBuf } from "./buffers";
import { Chunked } from "./chunked";
import {
  FIELD_BYTES,
  fieldNameAt,
  fieldNameLen,
  fieldValueAt,
  fieldValueLen,
  indexFields,
  sharedTable,
} from "./fields";
import { Body, Framing } from "./framing";
import { clearCallbacks, dataFns, endFns } from "./callbacks";
import { DataHandler, Handler } from "./handler";
import { decodeComponent, findParam, valueAt, valueLen } from "./query";
import { Scan } from "./scan";
import { Form } from "./target";
import { bytesEqual, bytesEqualLower, latin1, Slice } from "./text";

/** Where a slot's current request stands. */
export const enum Phase {
  HEAD = 0, // reading a head (between requests, too)
  BODY, // reading the body: offered to onData, or discarded once the response ended
  RESPONDING, // the body is in; the response has not ended (it streams through onDrain)
  CLOSED, // the connection is ending; input is ignored
}

@final
export class Request {
  // The parser's state for this slot (SDK internals).
  phase: Phase = Phase.HEAD;
  scan: Scan = new Scan();
  framing: Framing = new Framing();
  chunked: Chunked = new Chunked();
  base: usize = 0; // the head's first byte, wherever the head is now
  table: usize = 0; // its field table, or 0 until a field is read (fieldTable())
  kept: ByteBuf = new ByteBuf();
  left: i64 = 0; // Body.LENGTH: body bytes still to come
  complete: bool = false; // the whole body has arrived
  received: i64 = 0;
  bodyDeadline: f64 = 0; // when the body must have arrived (deadline.ts), 0 = none
  registered: bool = false; // onData or onEnd was called: the slot's callbacks are this request's
  collectMax: i32 = -1;
  collected: ByteBuf = new ByteBuf();
  bodyView: Slice = new Slice();

  constructor(public slot: u32) {} // the connection it belongs to now (slots.ts reuses it)

  /** The method, e.g. "GET" (case-sensitive, RFC 9110 9.1). */
  get method(): string {
    return latin1(this.methodPtr, this.methodLen);
  }
  get methodPtr(): usize {
    return this.base + <usize>this.scan.method;
  }
  get methodLen(): i32 {
    return this.scan.target - 1 - this.scan.method;
  }
  methodIs(m: string): bool {
    return bytesEqual(this.methodPtr, this.methodLen, m);
  }

  /** The request-target as sent: "/a/b?x=1", "http://host/a", "host:443", or "*". */
  get target(): string {
    return latin1(this.targetPtr, this.targetLen);
  }
  get targetPtr(): usize {
    return this.base + <usize>this.scan.target;
  }
  get targetLen(): i32 {
    return this.scan.version - 1 - this.scan.target;
  }

  /** The path without the query, still percent-encoded: "/" for an absolute-form target
   *  without one, "*" for OPTIONS *, "" for CONNECT's authority-form. */
  get path(): string {
    const f = this.framing.target.form;
    if (f == Form.ASTERISK) return "*";
    if (this.pathLen == 0) return f == Form.AUTHORITY ? "" : "/";
    return latin1(this.pathPtr, this.pathLen);
  }
  get pathPtr(): usize {
    return this.base + <usize>this.framing.target.pathAt;
  }
  get pathLen(): i32 {
    return this.framing.target.pathLen;
  }
  pathIs(s: string): bool {
    return bytesEqual(this.pathPtr, this.pathLen, s);
  }

  /** The query after "?", still percent-encoded; "" without one (see hasQuery). */
  get query(): string {
    return latin1(this.queryPtr, this.queryLen);
  }
  get hasQuery(): bool {
    return this.framing.target.queryAt >= 0;
  }
  get queryPtr(): usize {
    return this.base + <usize>max(0, this.framing.target.queryAt);
  }
  get queryLen(): i32 {
    return this.framing.target.queryLen;
  }

  /** The decoded value of query parameter `name` ("" for a bare "name"), or null. Allocates. */
  param(name: string): string | null {
    if (!findParam(this.queryPtr, this.queryLen, name)) return null;
    return decodeComponent(this.queryPtr + <usize>valueAt, valueLen);
  }

  /** "HTTP/1.1" or "HTTP/1.0". */
  get version(): string {
    return this.framing.http10 ? "HTTP/1.0" : "HTTP/1.1";
  }
  get http10(): bool {
    return this.framing.http10;
  }

  /** Header lines, in the order received, names in the case received. */
  get headerCount(): i32 {
    return this.scan.fields;
  }
  headerName(i: i32): string {
    return latin1(this.headerNamePtr(i), this.headerNameLen(i));
  }
  /** A value without surrounding whitespace, one character per byte (ISO-8859-1). */
  headerValue(i: i32): string {
    return latin1(this.headerValuePtr(i), this.headerValueLen(i));
  }
  headerNamePtr(i: i32): usize {
    return this.base + <usize>fieldNameAt(this.fieldTable(), i);
  }
  headerNameLen(i: i32): i32 {
    return fieldNameLen(this.fieldTable(), i);
  }
  headerValuePtr(i: i32): usize {
    return this.base + <usize>fieldValueAt(this.fieldTable(), i);
  }
  headerValueLen(i: i32): i32 {
    return fieldValueLen(this.fieldTable(), i);
  }

  /** The field table, indexed at the first read: the scanner does not index (fields.ts). */
  private fieldTable(): usize {
    if (this.table == 0) {
      indexFields(this.scan, this.base, sharedTable);
      this.table = sharedTable;
    }
    return this.table;
  }

  /** The index of the first header line named `name` (any case) at or after `from`, or -1. */
  headerIndex(name: string, from: i32 = 0): i32 {
    for (let i = from; i < this.scan.fields; i++) {
      if (bytesEqualLower(this.headerNamePtr(i), this.headerNameLen(i), name)) return i;
    }
    return -1;
  }

  /** The value of the first header line named `name` (any case), or null. */
  header(name: string): string | null {
    const i = this.headerIndex(name);
    return i < 0 ? null : this.headerValue(i);
  }

  /** The declared Content-Length; -1 for a chunked body; 0 without a body. */
  get contentLength(): i64 {
    return this.framing.body == Body.CHUNKED ? -1 : this.framing.length;
  }
  get isChunked(): bool {
    return this.framing.body == Body.CHUNKED;
  }
  /** Body bytes received so far. */
  get bodyLength(): i64 {
    return this.received;
  }
  /** False when the connection closes after this request. */
  get keepAlive(): bool {
    return this.framing.keepAlive;
  }

  /** `fn(req, res, data)` receives each piece of the body as it arrives. */
  onData(fn: DataHandler): void {
    dataFns[this.slot] = fn;
    this.registered = true;
  }
  /** `fn(req, res)` runs once the whole body has arrived (at once for a request without one). */
  onEnd(fn: Handler): void {
    endFns[this.slot] = fn;
    this.registered = true;
  }

  /** SDK: a new request starts with no callbacks (the slot's are cleared only if set). */
  forgetCallbacks(): void {
    if (!this.registered) return;
    clearCallbacks(this.slot);
    this.registered = false;
  }

  /** Keeps the body, up to `maxBytes` (past it the request is answered 413), for `body` in
   *  onEnd. Without it the body is never held: each piece is offered to onData, then dropped. */
  collect(maxBytes: i32): void {
    this.collectMax = maxBytes;
  }
  /** The collected body (see collect()); valid until the response ends. */
  get body(): Slice {
    const v = this.bodyView;
    v.ptr = this.collected.data;
    v.length = this.collected.length;
    return v;
  }

  /** SDK: copies the head at p (headLen bytes) out of the input, which is about to be
   *  consumed, and indexes the copy's fields into a table of its own, so that the accessors
   *  outlive the call that parsed it. False past the memory cap. */
  keep(p: usize, headLen: i32): bool {
    const tableBytes = this.scan.fields * FIELD_BYTES;
    const k = this.kept;
    k.clear();
    if (!k.reserve(tableBytes + headLen)) return false;
    memory.copy(k.ptr + <usize>tableBytes, p, <usize>headLen);
    k.end = tableBytes + headLen;
    this.table = k.ptr;
    this.base = k.ptr + <usize>tableBytes;
    indexFields(this.scan, this.base, this.table);
    return true;
  }
}
