// The node:http hello server the benchmarks compare against: the same 13-byte body with the
// same Content-Type and Content-Length as wasm/hello.wasm (Node adds its Date, Connection and
// Keep-Alive headers, which it cannot be told not to send). Node's defaults otherwise; with
// --keep-idle (the idle-connection scenario) it never closes an idle connection.
//   usage: node bench/servers/node-http.js PORT [--keep-idle]   (listens on 127.0.0.1:PORT)
import http from 'node:http';

const port = Number(process.argv[2]);
const BODY = Buffer.from('Hello, World!');
const server = http.createServer({ noDelay: true }, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  res.end(BODY);
});
if (process.argv.includes('--keep-idle')) {
  server.keepAliveTimeout = 0; // never close an idle keep-alive connection
  server.requestTimeout = 0;
  server.headersTimeout = 0;
}
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stderr.write(`node-http: listening on 127.0.0.1:${port}\n`);
});
