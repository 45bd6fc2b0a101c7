/**
 * The simulated kernel as its own tests drive it: one listener watched by one epoll instance,
 * events decoded, text in and out of a shared scratch memory. Used by test/sim-kernel.test.ts
 * and test/sim-faults.test.ts.
 */
import * as assert from 'uvu/assert';
import { EPOLL_CTL_ADD, EPOLLIN } from '../../host/kernel/contract.ts';
import { SimKernel } from '../../host/kernel/sim/kernel.ts';
import type { SimKernelOptions } from '../../host/kernel/sim/kernel.ts';

export interface Ev {
  events: number;
  lo: number;
  hi: number;
}

export const LISTEN_TOKEN = 1000;
export const mem = new ArrayBuffer(1 << 16);
export const bytes = new Uint8Array(mem);
const EVENTS_AT = 1 << 15;

/** A kernel with one listener (ephemeral port) watched by one epoll instance. */
export function setup(options: SimKernelOptions = {}) {
  const k = new SimKernel(options);
  const lfd = k.listen('127.0.0.1', 0, 8, false);
  const ep = k.epollCreate();
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, lfd, EPOLLIN, LISTEN_TOKEN, 0), 0);
  const addr = k.localAddress(lfd);
  if (typeof addr === 'number') throw new Error('no address');
  return { k, lfd, ep, port: addr.port };
}

export function wait(k: SimKernel, ep: number, max = 64): Ev[] {
  const n = k.epollWait(ep, mem, EVENTS_AT, max, 0);
  assert.ok(n >= 0, `epollWait: ${n}`);
  const view = new DataView(mem);
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const at = EVENTS_AT + i * 12;
    out.push({
      events: view.getUint32(at, true),
      lo: view.getUint32(at + 4, true),
      hi: view.getUint32(at + 8, true),
    });
  }
  return out;
}

/** Accepts one connection and watches it with token = fd. */
export function acceptOne(k: SimKernel, lfd: number, ep: number, events = EPOLLIN): number {
  const fd = k.accept(lfd);
  assert.ok(fd >= 3, `accept: ${fd}`);
  assert.is(k.epollCtl(ep, EPOLL_CTL_ADD, fd, events, fd, 0), 0);
  return fd;
}

export function recvText(k: SimKernel, fd: number, len = 4096): string | number {
  const n = k.recv(fd, mem, 0, len);
  return n < 0 ? n : new TextDecoder().decode(bytes.subarray(0, n));
}

export function sendText(k: SimKernel, fd: number, text: string): number {
  const data = new TextEncoder().encode(text);
  bytes.set(data, 0);
  return k.send(fd, mem, 0, data.length);
}
