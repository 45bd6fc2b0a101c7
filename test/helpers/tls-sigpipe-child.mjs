/**
 * A child for test/tls-io.test.ts: serves wasm/echo.wasm over TLS (cert and key files in argv)
 * with SIGPIPE at SIG_DFL, as an embedder leaves it after adding and removing a 'SIGPIPE'
 * listener (Node then restores SIG_DFL, not the SIG_IGN it starts with). Prints its port.
 * Plain JS over the built package (dist/, as the CLI tests use): it starts in a fraction of
 * the time tsx takes.
 */
import { readFileSync } from 'node:fs';
import { createLoop } from 'wasmloop';

const [certFile, keyFile] = process.argv.slice(2);
const ignore = () => {};
process.on('SIGPIPE', ignore);
process.off('SIGPIPE', ignore); // SIGPIPE is SIG_DFL from here: one raised ends the process
const tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
const loop = await createLoop({
  module: 'wasm/echo.wasm',
  listen: [{ host: '127.0.0.1', port: 0, tls }],
});
console.log(`port ${loop.addresses()[0].port}`);
process.once('SIGTERM', () => void loop.close());
