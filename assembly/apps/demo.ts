// @runtime incremental
// @limits http
// wasm/demo.wasm: a small app showing the HTTP SDK (docs/GUEST.md walks through it).
//
//   GET  /               a fixed greeting
//   GET  /hello?name=Ada  a greeting built from the query (strings: needs a collecting runtime)
//   POST /echo           the body streamed straight back, chunked, as it arrives
//   POST /count          the body collected (up to 1 MiB), answered with its length and lines
//   GET  /bytes?n=N      N bytes streamed out through onDrain, never held whole
//   GET  /go?to=URL      a redirect; a URL with CR or LF in it is refused (no header injection)
//   GET  /fail           a handler error: res.fail() answers 500
//   GET  /forget         a handler that forgets to respond: the SDK answers 500
//   GET  /half           a handler that fails after its head went out: the connection aborts
//   GET  /crash          a handler that traps (throws): 500 from the host, other connections
//                        unharmed; /crash?late=1 traps after its head went out: closed
//   anything else        404

import * as http from "../http";

export * from "../../guest";

/** Bytes still to send per slot, for /bytes (sized in onInit). */
let bytesLeft = new StaticArray<i64>(0);
/** One 16 KiB block of the pattern /bytes sends. */
const BLOCK: i32 = 16384;
const pattern = memory.data(BLOCK);

http.onInit(() => {
  bytesLeft = new StaticArray<i64>(http.maxConnections());
  for (let i = 0; i < BLOCK; i++) store<u8>(pattern + <usize>i, <u8>(0x61 + (i % 26)));
});

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathIs("/") && req.methodIs("GET")) {
    res.header("Content-Type", "text/plain").end("Hello from wasmloop!\n");
  } else if (req.pathIs("/hello")) {
    hello(req, res);
  } else if (req.pathIs("/echo") && req.methodIs("POST")) {
    echo(req, res);
  } else if (req.pathIs("/count") && req.methodIs("POST")) {
    req.collect(1 << 20);
    req.onEnd(count);
  } else if (req.pathIs("/bytes")) {
    bytes(req, res);
  } else if (req.pathIs("/go")) {
    redirect(req, res);
  } else if (req.pathIs("/fail")) {
    res.header("X-Half-Done", "yes");
    res.fail();
  } else if (req.pathIs("/half")) {
    res.length(10).write("12345"); // the head is out now: too late for a 500
    res.fail();
  } else if (req.pathIs("/forget")) {
    // Returns without responding: the SDK answers 500 once the request is in.
  } else if (req.pathIs("/crash")) {
    crash(req, res);
  } else {
    res.status(404).header("Content-Type", "text/plain").end("Not found\n");
  }
});

function hello(req: http.Request, res: http.Response): void {
  const name = req.param("name");
  res.header("Content-Type", "text/plain; charset=utf-8");
  res.end("Hello, " + (name === null ? "stranger" : name) + "!\n");
}

/** The body straight back, chunked, piece by piece as it arrives. */
function echo(req: http.Request, res: http.Response): void {
  res.header("Content-Type", "application/octet-stream");
  req.onData((req: http.Request, res: http.Response, data: http.Slice): void => {
    res.writeBytes(data.ptr, data.length); // the SDK stops reading while this waits
  });
  req.onEnd((req: http.Request, res: http.Response): void => {
    res.end();
  });
}

function bytes(req: http.Request, res: http.Response): void {
  const n = req.param("n");
  bytesLeft[req.slot] = n === null ? 0 : I64.parseInt(n);
  res.header("Content-Type", "text/plain").length(bytesLeft[req.slot]);
  sendBytes(req, res);
}

function redirect(req: http.Request, res: http.Response): void {
  const to = req.param("to");
  res
    .status(302)
    .header("Location", to === null ? "/" : to)
    .end(); // CR/LF in `to`: 500
}

/** A bug: the instance traps. The host answers 500 (or, once the head is out, closes) and
 *  connections between requests carry on in a fresh instance. */
function crash(req: http.Request, res: http.Response): void {
  if (req.param("late") !== null) res.length(10).write("12345");
  throw new Error("the /crash handler crashed");
}

function count(req: http.Request, res: http.Response): void {
  const body = req.body;
  let lines = 0;
  for (let i = 0; i < body.length; i++) if (body.at(i) == 0x0a) lines++;
  res.header("Content-Type", "text/plain");
  res.end(body.length.toString() + " bytes, " + lines.toString() + " lines\n");
}

/** Writes what the connection can take now, then continues when it has drained. */
function sendBytes(req: http.Request, res: http.Response): void {
  let left = bytesLeft[req.slot];
  while (left > 0 && res.writable > 0) {
    const n = <i32>min<i64>(left, <i64>min(BLOCK, res.writable));
    res.writeBytes(pattern, n);
    left -= n;
  }
  bytesLeft[req.slot] = left;
  if (left > 0) res.onDrain(sendBytes);
  else res.end();
}
