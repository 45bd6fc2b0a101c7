/**
 * Reloads under load (issue 16): while keep-alive, pipelining, uploading and slowly downloading
 * clients run without pause, the loop is reloaded 20 times, alternating the hello and demo
 * guests (GET / answers differently), with a reload to a module whose wl_init traps in the
 * middle. No request may fail, be reset or cut short; each response must come from the guest
 * that was current when the server began its request (docs/DESIGN.md, "Reload"): from the
 * client's side, a guest current at some point while the request was outstanding, never one
 * replaced before it was sent, pipelined requests and the request behind an upload's early
 * answer included; and the process's fds and memory must not grow with the reloads.
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGuest } from '../host/index.ts';
import { closeAllLoops, startLoop } from './helpers/net-loop.ts';
import { GET, readResponse } from './helpers/net-http.ts';
import { closeAllClients, RawClient, sleep, waitFor } from './helpers/net-tcp.ts';

const test = suite('reload under load');
test.after.each(async () => {
  closeAllClients();
  await closeAllLoops();
});

const GUESTS = ['wasm/hello.wasm', 'wasm/demo.wasm'] as const;
const HELLO = 'Hello, World!';
const RELOADS = 20;
const UPLOAD = 10 << 20;
const DOWNLOAD = 1 << 20;

/** Which guest an answer came from: hello answers everything with HELLO. */
const guestOf = (body: string): number => (body === HELLO ? 0 : 1);

/** The reloads done so far (version v serves GUESTS[v % 2]) and whether one is under way. */
const clock = { version: 0, reloading: false };

/** Checks `guest` answered a request sent at version `from`: a guest current at some point
 *  from then until now. */
function checkGuest(guest: number, from: number, what: string): void {
  const to = clock.version + (clock.reloading ? 1 : 0);
  const ok = to > from || guest === from % 2;
  assert.ok(ok, `${what}: answered by ${GUESTS[guest]} at version ${from}..${to}`);
}

type Counts = { requests: number };

/** Keep-alive GET / on one raw connection, over and over. */
async function keepAlive(port: number, stop: () => boolean, n: Counts): Promise<void> {
  const c = await RawClient.connect(port);
  while (!stop()) {
    const from = clock.version;
    await c.write(GET());
    const res = await readResponse(c);
    assert.is(res.status, 200);
    checkGuest(guestOf(res.body), from, 'keep-alive');
    n.requests++;
  }
}

/** Three GETs at a time on one connection. */
async function pipelined(port: number, stop: () => boolean, n: Counts): Promise<void> {
  const c = await RawClient.connect(port);
  while (!stop()) {
    const from = clock.version;
    await c.write(GET() + GET() + GET());
    for (let i = 0; i < 3; i++) {
      const res = await readResponse(c);
      assert.is(res.status, 200);
      checkGuest(guestOf(res.body), from, `pipelined ${i}`);
      n.requests++;
    }
  }
}

/** One request with node:http on `agent`; resolves with the status and the body's length and
 *  first bytes, reading it at `delayMs` per chunk. */
function request(
  agent: http.Agent,
  port: number,
  opts: { method: string; path: string; body?: Buffer; delayMs?: number },
): Promise<{ status: number; length: number; head: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, ...opts }, (res) => {
      (async () => {
        let length = 0;
        let head = '';
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (head.length < 32) head += chunk.toString('latin1', 0, 32);
          length += chunk.length;
          if (opts.delayMs) await sleep(opts.delayMs);
        }
        if (!res.complete) throw new Error(`${opts.path}: response cut short at ${length}`);
        return { status: res.statusCode ?? 0, length, head };
      })().then(resolve, reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** POST /echo of UPLOAD bytes: demo echoes them, hello answers HELLO. */
async function uploads(port: number, stop: () => boolean, n: Counts): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = Buffer.alloc(UPLOAD, 'x');
  // hello answers before the body has all come: the next request can then arrive in the same
  // read as the previous body's tail; a retiring hello stops before it (wl_retire).
  try {
    while (!stop()) {
      const from = clock.version;
      const res = await request(agent, port, { method: 'POST', path: '/echo', body });
      const guest = res.head.startsWith(HELLO) ? 0 : 1;
      assert.is(res.length, guest === 0 ? HELLO.length : UPLOAD, 'the whole echo');
      checkGuest(guest, from, 'upload');
      n.requests++;
    }
  } finally {
    agent.destroy();
  }
}

/** GET /bytes?n=DOWNLOAD read slowly: demo sends them, hello answers HELLO. */
async function downloads(port: number, stop: () => boolean, n: Counts): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (!stop()) {
      const from = clock.version;
      const path = `/bytes?n=${DOWNLOAD}`;
      const res = await request(agent, port, { method: 'GET', path, delayMs: 4 });
      const guest = res.head.startsWith(HELLO) ? 0 : 1;
      assert.is(res.length, guest === 0 ? HELLO.length : DOWNLOAD, 'the whole download');
      checkGuest(guest, from, 'download');
      n.requests++;
    }
  } finally {
    agent.destroy();
  }
}

const openFds = () => readdirSync('/proc/self/fd').length;

test('20 reloads under load: nothing fails, each answer from the right guest', async () => {
  // Compiled once: the test is about moving connections, not about compiling modules.
  const modules = await Promise.all(GUESTS.map((g) => compileGuest(g)));
  const { loop, port } = await startLoop(GUESTS[0], { drainMs: 10_000 });
  clock.version = 0;
  const fdsBefore = openFds();
  let done = false;
  const stop = () => done;
  const n: Counts = { requests: 0 };
  const clients = [
    ...[1, 2, 3, 4].map(() => keepAlive(port, stop, n)),
    ...[1, 2].map(() => pipelined(port, stop, n)),
    ...[1, 2, 3, 4, 5, 6, 7, 8].map(() => uploads(port, stop, n)),
    ...[1, 2].map(() => downloads(port, stop, n)),
  ];
  const failed = Promise.race(clients.map((c) => c.then(() => new Promise<never>(() => {}))));
  let rssAfterFirst = 0;
  for (let i = 1; i <= RELOADS; i++) {
    await Promise.race([sleep(50), failed]);
    if (i === RELOADS / 2) {
      const err = await loop.reload('wasm/test/trap-init.wasm').catch((e: Error) => e);
      assert.instance(err, Error, 'the broken module is refused');
    }
    clock.reloading = true;
    await Promise.race([loop.reload(modules[i % 2]!), failed]);
    clock.version = i;
    clock.reloading = false;
    if (i === 2) rssAfterFirst = process.memoryUsage().rss;
  }
  await Promise.race([sleep(300), failed]);
  done = true;
  await Promise.all(clients);
  assert.ok(n.requests > 200, `${n.requests} requests`);
  closeAllClients();
  await waitFor(() => (loop.stats().open === 0 ? true : undefined), 'every connection closed');
  await waitFor(() => (openFds() <= fdsBefore ? true : undefined), `fds back to ${fdsBefore}`);
  const grown = process.memoryUsage().rss - rssAfterFirst;
  assert.ok(grown < 256 << 20, `rss grew ${grown >> 20} MiB over the reloads`);
});

test.run();
