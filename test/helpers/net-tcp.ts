/**
 * A raw TCP client for end-to-end tests: it records every byte the server sends and whether
 * the stream ended cleanly (EOF), was reset, or closed. Every wait has a timeout that fails the
 * test with a description instead of hanging. `closeAllClients()` (call it in an `after` hook)
 * destroys every client still open.
 */
import * as net from 'node:net';

const open = new Set<net.Socket>();

/** Destroys every socket made by this module that is still open. */
export function closeAllClients(): void {
  for (const s of open) s.destroy();
  open.clear();
}

/** Tracks a socket made elsewhere (node:net, http) so closeAllClients() destroys it too. */
export function track(sock: net.Socket): net.Socket {
  open.add(sock);
  sock.once('close', () => open.delete(sock));
  return sock;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects after `ms` with "timed out: what" unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Polls `f` (every few ms) until it returns something other than undefined/false. */
export async function waitFor<T>(
  f: () => T | undefined | false,
  what: string,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export class RawClient {
  readonly sock: net.Socket;
  private chunks: Buffer[] = [];
  private total = 0;
  /** Bytes already handed out by read*(). */
  private consumed = 0;
  /** The server's FIN arrived ('end'). */
  ended = false;
  /** The socket is closed (for any reason). */
  closed = false;
  /** A socket error (ECONNRESET, EPIPE...), if any. */
  error: NodeJS.ErrnoException | null = null;
  private waiters: Array<() => void> = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    track(sock);
    sock.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.total += b.length;
      this.wake();
    });
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:port. `allowHalfOpen` keeps our side open after the server's FIN. */
  static async connect(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    const sock = net.connect({
      port,
      host: '127.0.0.1',
      allowHalfOpen: opts.allowHalfOpen ?? false,
    });
    sock.setNoDelay(true);
    const c = new RawClient(sock);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      }),
      5000,
      `connect to 127.0.0.1:${port}`,
    );
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond()` holds; rejects after `ms` (with `what` and what was received). */
  async until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
    if (cond()) return;
    const deadline = Date.now() + ms;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          reject(
            new Error(
              `timed out after ${ms} ms waiting for ${what}; received ${this.total} bytes ` +
                `(ended=${this.ended} closed=${this.closed} error=${this.error?.code ?? 'none'}): ` +
                JSON.stringify(this.all().subarray(0, 200).toString('latin1')),
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Everything received so far (including bytes already returned by read*). */
  all(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Bytes received and not yet returned by read*(). */
  pending(): Buffer {
    return this.all().subarray(this.consumed);
  }

  get received(): number {
    return this.total;
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Waits for exactly `n` more bytes and returns them (fails early if the stream closes). */
  async read(n: number, ms = 5000): Promise<Buffer> {
    await this.until(() => this.total - this.consumed >= n || this.closed, `${n} bytes`, ms);
    if (this.total - this.consumed < n) {
      throw new Error(
        `stream closed after ${this.total - this.consumed} of ${n} bytes: ` +
          JSON.stringify(this.pending().toString('latin1')),
      );
    }
    const out = Buffer.from(this.all().subarray(this.consumed, this.consumed + n));
    this.consumed += n;
    return out;
  }

  /** Waits until the pending bytes contain `marker`; returns and consumes them up to its end. */
  async readUntil(marker: string, ms = 5000): Promise<Buffer> {
    const find = () => this.pending().indexOf(marker);
    await this.until(() => find() >= 0 || this.closed, JSON.stringify(marker), ms);
    const at = find();
    if (at < 0)
      throw new Error(
        `stream closed before ${JSON.stringify(marker)}: ${JSON.stringify(this.pending().toString('latin1'))}`,
      );
    return this.read(at + marker.length);
  }

  /** Waits for the server's EOF (or a reset / close) and returns all the unread bytes. */
  async readToEnd(ms = 5000): Promise<Buffer> {
    await this.until(() => this.ended || this.closed, 'end of stream', ms);
    return this.read(this.total - this.consumed);
  }

  /** Waits until the socket is fully closed. */
  waitClosed(ms = 5000): Promise<void> {
    return this.until(() => this.closed, 'socket close', ms);
  }

  destroy(): void {
    this.sock.destroy();
  }
}
