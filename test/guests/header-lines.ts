// @limits http
// Literal header pairs, for test/http-sdk-header-lines.test.ts: the SDK keeps the line of a
// literal pair encoded once it has checked it (assembly/http/literal-lines.ts), up to 120
// bytes a line, and a response holds its first eight literal lines as entry numbers
// (head-lines.ts). "/few" sets three pairs, "/many" nine short ones and one long one (more
// than a response holds as numbers, and the long one is never kept), "/mixed" a line from a
// heap string between literal ones.
import * as http from "../../assembly/http";

export * from "../../guest";

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathIs("/mixed")) {
    res.header("X-A", "1").header("X-Method", req.method).header("X-B", "two");
    res.header("Content-Type", "text/plain").end("ok");
    return;
  }
  res.header("X-A", "1").header("X-B", "two").header("Content-Type", "text/plain");
  if (req.pathIs("/many")) {
    res.header("X-C", "3").header("X-D", "4").header("X-E", "5").header("X-F", "6");
    res.header("X-G", "7").header("X-H", "8");
    res.header(
      "X-Long",
      "a value longer than the cache keeps a line for: one hundred and twenty bytes, name, colon and CRLF included",
    );
  }
  res.end("ok");
});
