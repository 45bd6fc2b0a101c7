// @limits http
// The edges of the SDK's whole-response fast path, for test/http-sdk-fast-path.test.ts: a
// request without a body answered during the handler's call is written straight into the
// output and finished at once (assembly/http/cycle.ts, response.ts endWhole/endKept). Each
// route takes a branch that must leave that path for the general one, or stay on it, with
// the same bytes on the wire.
//   /pad/N    200 with a body of N bytes ("." each): fills the output to a chosen level
//   /big      200 with a 40,000-character text (not a literal): the whole response, when the
//             output has room for it, else the general path
//   /s/NNN    status NNN (its line formatted once, response-head.ts), text "s"
//   /late     ends, then sets a header and a status: both refused (the head is out)
//   /later    answers from onDrain, after the call (the request is kept, then settled)
//   /end      answers from onEnd, which runs at once for a request without a body
//   anything else: a fixed literal text (the kept whole response)
import * as http from "../../assembly/http";

export * from "../../guest";

const DOTS: usize = memory.data(65536);
memory.fill(DOTS, 0x2e, 65536);

const BIG = "x".repeat(40000);

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathLen > 5 && load<u32>(req.pathPtr) == 0x6461702f) {
    // "/pad" then "/N": the digits after the fifth byte
    let n = 0;
    for (let i = 5; i < req.pathLen; i++) n = n * 10 + (load<u8>(req.pathPtr + <usize>i) - 0x30);
    res.endBytes(DOTS, min(n, 65536));
  } else if (req.pathLen == 6 && load<u16>(req.pathPtr) == 0x732f) {
    // "/s" then "/NNN"
    let code = 0;
    for (let i = 3; i < 6; i++) code = code * 10 + (load<u8>(req.pathPtr + <usize>i) - 0x30);
    res.status(code).end("s");
  } else if (req.pathIs("/big")) {
    res.header("Content-Type", "text/plain").end(BIG);
  } else if (req.pathIs("/late")) {
    res.header("Content-Type", "text/plain").end("late\n");
    res.header("X-Late", "1").status(500);
    res.end("again\n");
  } else if (req.pathIs("/later")) {
    res.onDrain(answerLater);
  } else if (req.pathIs("/end")) {
    req.onEnd(answerAtEnd);
  } else {
    res.header("Content-Type", "text/plain").end("fixed\n");
  }
});

function answerLater(req: http.Request, res: http.Response): void {
  res.header("Content-Type", "text/plain").end("later\n");
}

function answerAtEnd(req: http.Request, res: http.Response): void {
  res.header("Content-Type", "text/plain").end("at end\n");
}
