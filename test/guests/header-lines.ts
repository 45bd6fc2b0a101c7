// @limits http
// Literal header pairs, for test/http-sdk-header-lines.test.ts: the SDK keeps the line of a
// literal pair encoded once it has checked it (assembly/http/response-head.ts), in a cache of
// eight pairs, up to 120 bytes a line. "/few" sets three pairs (all cached after the first
// response), "/many" nine short ones and one long one (more than the cache holds, so lines are
// evicted and encoded again, and the long one is never kept).
import * as http from "../../assembly/http";

export * from "../../guest";

http.serve((req: http.Request, res: http.Response): void => {
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
