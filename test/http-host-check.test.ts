/**
 * The SDK remembers the last Host value it found valid and compares the next one instead of
 * checking it again (assembly/http/early.ts): a value of the same length that differs must
 * still be checked, and refused when it is not a host, on any connection.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLAVOURS, simLoop } from './helpers/sim.ts';
import { send } from './helpers/http-sim.ts';

const status = (raw: Buffer) => raw.toString('latin1').split('\r\n')[0];

/** A greet loop of `flavour`, and a function answering each Host's status on a new connection. */
async function asker(flavour: (typeof FLAVOURS)[number]) {
  const s = await simLoop('greet', { flavour });
  return (host: string) => status(send(s, s.connect(), `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
}

for (const flavour of FLAVOURS) {
  const test = suite(`http host check (${flavour})`);

  test('a remembered valid Host does not let a different one through', async () => {
    const ask = await asker(flavour);
    for (const [host, want] of [
      ['a.b:80', 'HTTP/1.1 200 OK'],
      ['a.b:80', 'HTTP/1.1 200 OK'],
      ['a^b:80', 'HTTP/1.1 400 Bad Request'], // same length, one byte not a host's
      ['a.b:8x', 'HTTP/1.1 400 Bad Request'],
      ['a.b:80', 'HTTP/1.1 200 OK'],
      ['example.com', 'HTTP/1.1 200 OK'],
      ['example.co%', 'HTTP/1.1 400 Bad Request'],
    ] as const) {
      assert.is(ask(host), want, host);
    }
  });

  // The scanner passes a value equal to the remembered one whole when its CR follows at once
  // (scan.ts knownHost): a value that starts with it and goes on must be read to its end.
  test('a value starting with the remembered Host is checked to its end', async () => {
    const ask = await asker(flavour);
    for (const [host, want] of [
      ['localhost:8080', 'HTTP/1.1 200 OK'],
      ['localhost:8080x', 'HTTP/1.1 400 Bad Request'],
      ['localhost:8080/', 'HTTP/1.1 400 Bad Request'],
      ['localhost:8080\x01', 'HTTP/1.1 400 Bad Request'],
      ['localhost:8080 ', 'HTTP/1.1 200 OK'], // trailing OWS
      ['localhost:8080', 'HTTP/1.1 200 OK'],
    ] as const) {
      assert.is(ask(host), want, JSON.stringify(host));
    }
  });

  test.run();
}
