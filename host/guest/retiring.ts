/**
 * An instance a reload replaced, while it finishes the requests it was serving
 * (host/guest/reload.ts runs the reload). It shares the loop's epoll fd with the new instance, so
 * each event must reach its owner:
 *
 *  - when it retires, every connection it watches is registered again (EPOLL_CTL_MOD) under
 *    the host's token (index, tag): lo the handle index, hi the instance's tag, at or above
 *    RETIRED_TAG_BASE; a `watch` it makes later gets the same treatment. What its guest asked
 *    for stays in its handle table (`interest`);
 *  - while any instance retires, the new one may not use a token in that range (`watch`
 *    returns -EINVAL), so a tag can only be a retiring instance's;
 *  - epoll_wait writes into the new instance's ring as always; before that instance sees the
 *    events, `routeEvents` takes out the tagged ones and writes each into its owner's ring with
 *    the token its guest asked for.
 *
 * So the extra work is per event only while an instance retires; with one instance the tick is
 * exactly what it was (the loop checks for retiring instances once per tick).
 */
import { EVENT_SIZE } from '../kernel/contract.ts';
import { Kind } from './handles.ts';
import type { GuestInstance } from './instance.ts';
import type { WasiBinding } from './wasi.ts';

/** Tokens with a `hi` at or above this route to a retiring instance while one exists. */
export const RETIRED_TAG_BASE = 0xffff0000;
/** At most this many instances retire at once; a reload past it drops the oldest at once. */
export const MAX_RETIRING = 3;
/** Handle registries a loop needs (host/driver/worker-protocol.ts): one per instance at once. */
export const REGISTRY_PARTS = MAX_RETIRING + 1;

export class Retiring {
  /** When its guest asked to be called next (-1: no deadline). */
  deadlineAt = -1;
  /** When its drain time is over (the loop's clock): it is then dropped. */
  dropAt = Infinity;
  /** Connections that moved out of it: its guest still counts them open until it closes
   *  their slots, which it then counts closed (see `closedSoFar`). */
  moved = 0;
  /** Events routed into its ring since its last dispatch. */
  private queued = 0;

  constructor(
    readonly instance: GuestInstance,
    readonly wasi: WasiBinding | null,
    /** Its token tag (hi), unique among the retiring instances. */
    readonly tag: number,
    /** Which handle registry part it holds. */
    readonly part: number,
  ) {}

  /** Connections it still holds (the host's count: its guest may still name some that moved). */
  get connections(): number {
    return this.instance.handles.connections;
  }

  /** The connections it really closed: of all its guest took (accepted or adopted: its `closed`
   *  plus its `open`), those neither moved nor still `held` (0 once it is torn down). A moved
   *  connection's slot is closed by both guests; counted so, it is closed once. */
  closedSoFar(held: number): number {
    const s = this.instance.stats();
    return Math.max(0, s.closed + s.open - this.moved - held);
  }

  /** Writes one event for handle index `index` into its ring with its guest's token; an event
   *  for an index it no longer watches, or past its ring (level-triggered: epoll reports it
   *  again), is dropped. */
  queue(events: number, index: number): void {
    const g = this.instance;
    const t = g.handles;
    if (this.queued >= g.eventsCap || t.kindAt(index) !== Kind.Conn || !t.isWatched(index)) return;
    const view = new DataView(g.memory, g.eventsPtr + this.queued * EVENT_SIZE, EVENT_SIZE);
    view.setUint32(0, events, true);
    view.setUint32(4, t.interest[3 * index + 1]!, true);
    view.setUint32(8, t.interest[3 * index + 2]!, true);
    this.queued++;
  }

  /** The events routed to it since the last call. */
  takeQueued(): number {
    const n = this.queued;
    this.queued = 0;
    return n;
  }
}

/** Moves the retiring instances' events out of `g`'s ring (its first `n` records) into theirs;
 *  returns how many of `g`'s own remain, in order, at the front. */
export function routeEvents(g: GuestInstance, n: number, retiring: readonly Retiring[]): number {
  const mem = g.memory;
  const view = new DataView(mem);
  const ring = new Uint8Array(mem);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const at = g.eventsPtr + i * EVENT_SIZE;
    const hi = view.getUint32(at + 8, true);
    if (hi < RETIRED_TAG_BASE) {
      if (kept !== i) ring.copyWithin(g.eventsPtr + kept * EVENT_SIZE, at, at + EVENT_SIZE);
      kept++;
      continue;
    }
    const owner = retiring.find((r) => r.tag === hi);
    owner?.queue(view.getUint32(at, true), view.getUint32(at + 4, true));
  }
  return kept;
}

/** A tag no instance in `retiring` has. */
export function freeTag(retiring: readonly Retiring[]): number {
  let tag = 0xffffffff;
  while (retiring.some((r) => r.tag === tag)) tag--;
  return tag;
}

/** A registry part no instance in use holds (`current`: the serving instance's). */
export function freePart(retiring: readonly Retiring[], current: number): number {
  let part = 0;
  while (part === current || retiring.some((r) => r.part === part)) part++;
  return part;
}
