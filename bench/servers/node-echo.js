// The node:net echo server the benchmarks compare against: idiomatic Node, nothing tuned beyond
// what any production echo server sets (TCP_NODELAY, as wasmloop and the C server set).
//   usage: node bench/servers/node-echo.js PORT      (listens on 127.0.0.1:PORT)
import net from 'node:net';

const port = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket); // every byte back, with Node's own backpressure
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  process.stderr.write(`node-echo: listening on 127.0.0.1:${port}\n`);
});
