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

for (const flavour of FLAVOURS) {
  const test = suite(`http host check (${flavour})`);

  test('a remembered valid Host does not let a different one through', async () => {
    const s = await simLoop('greet', { flavour });
    const ask = (host: string) =>
      status(send(s, s.connect(), `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
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

  test.run();
}
