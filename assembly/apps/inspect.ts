// @limits http max-body-bytes=9007199254740991
// wasm/inspect.wasm: answers every request with a JSON description of what it received:
//
//   {"method","target","version","headers":[[name, value], ...],"bodyLength","bodySha256"}
//
// header names in the case received, in order; strings one character per byte (ISO-8859-1).
// The body may be of any size: it is hashed as it streams through, never held. A
// multipart/form-data body is also split into its parts as it streams (curl -F file=@big.bin),
// and each part that ended reported with its size and SHA-256:
//
//   ...,"multipart":{"complete":true,"parts":[{"name","filename","size","sha256"}, ...]}}
//
// A request the SDK refuses gets the error status and the connection closes.

import * as http from "../http";
import { Sha256, DIGEST } from "../crypto/sha256";

export * from "../../guest";

// Any body size: the host's max-body-bytes still applies when given.
http.defaults.maxBodyBytes = 9007199254740991;

/** What one slot's current request has shown so far. */
@final
class Seen {
  body: Sha256 = new Sha256();
  part: Sha256 = new Sha256();
  partSize: i64 = 0;
  form: http.Multipart = new http.Multipart();
  isForm: bool = false;
  complete: bool = false;
  parts: http.ByteBuf = new http.ByteBuf(); // the "parts" JSON of the parts ended so far
  partHead: http.ByteBuf = new http.ByteBuf(); // the current part's name and filename JSON
}

let seen = new StaticArray<Seen | null>(0);
const json = new http.JsonWriter();
const partJson = new http.JsonWriter();
const digest = memory.data(DIGEST);

http.onInit(() => {
  seen = new StaticArray<Seen | null>(http.maxConnections());
});

function seenBy(slot: u32): Seen {
  let s = seen[slot];
  if (s === null) {
    s = new Seen();
    seen[slot] = s;
  }
  return s;
}

http.serve((req: http.Request, res: http.Response): void => {
  const s = seenBy(req.slot);
  s.body.reset();
  s.parts.clear();
  s.complete = false;
  const type = req.headerIndex("content-type");
  s.isForm = type >= 0 && s.form.start(req.headerValuePtr(type), req.headerValueLen(type));
  req.onData(received);
  req.onEnd(describe);
});

function received(req: http.Request, res: http.Response, data: http.Slice): void {
  const s = seenBy(req.slot);
  s.body.update(data.ptr, data.length);
  if (s.isForm) splitParts(s, data);
}

function splitParts(s: Seen, data: http.Slice): void {
  const form = s.form;
  form.push(data.ptr, data.length);
  for (;;) {
    switch (form.next()) {
      case http.Part.BEGIN:
        beginPart(s, form.headers);
        break;
      case http.Part.DATA:
        s.part.update(form.dataPtr, form.dataLen);
        s.partSize += form.dataLen;
        break;
      case http.Part.END:
        endPart(s);
        break;
      case http.Part.DONE:
        s.complete = true;
        break;
      default:
        return; // MORE, or ERROR (complete stays false)
    }
  }
}

function beginPart(s: Seen, h: http.PartHeaders): void {
  s.part.reset();
  s.partSize = 0;
  s.partHead.reset();
  partJson.beginBuffer(s.partHead).raw(s.parts.length == 0 ? '{"name":' : ',{"name":');
  if (h.hasName) partJson.bytes(h.namePtr, h.nameLen);
  else partJson.raw("null");
  partJson.raw(',"filename":');
  if (h.hasFilename) partJson.bytes(h.filenamePtr, h.fileLen);
  else partJson.raw("null");
  partJson.flush();
}

function endPart(s: Seen): void {
  s.part.final(digest);
  s.parts.append(s.partHead.data, s.partHead.length);
  partJson.beginBuffer(s.parts).raw(',"size":').number(s.partSize);
  partJson.raw(',"sha256":').hex(digest, DIGEST).raw("}").flush();
}

function describe(req: http.Request, res: http.Response): void {
  const s = seenBy(req.slot);
  res.header("Content-Type", "application/json");
  json.begin(res).raw('{"method":').bytes(req.methodPtr, req.methodLen);
  json.raw(',"target":').bytes(req.targetPtr, req.targetLen);
  json.raw(',"version":').raw(req.http10 ? '"HTTP/1.0"' : '"HTTP/1.1"');
  json.raw(',"headers":[');
  for (let i = 0; i < req.headerCount; i++) {
    json.raw(i == 0 ? "[" : ",[").bytes(req.headerNamePtr(i), req.headerNameLen(i));
    json.raw(",").bytes(req.headerValuePtr(i), req.headerValueLen(i)).raw("]");
  }
  s.body.final(digest);
  json.raw('],"bodyLength":').number(req.bodyLength);
  json.raw(',"bodySha256":').hex(digest, DIGEST);
  if (s.isForm) {
    json
      .raw(',"multipart":{"complete":')
      .raw(s.complete ? "true" : "false")
      .raw(',"parts":[')
      .flush();
    res.writeBytes(s.parts.data, s.parts.length);
    s.parts.clear();
    s.partHead.clear();
    json.raw("]}");
  }
  json.raw("}").flush();
  res.end();
}
