// A guest that misbehaves on request, to test the sandbox. It echoes, except for commands:
//   "BADHANDLE\n"  hostcalls on handles it does not own; replies with their results
//   "BADPTR\n"     recv/send with pointers and lengths outside its memory; replies with results
//   "LISTENER\n"   connection calls on its listener handle; replies with results
//   "BATCH\n"      recv_many/send_many with a stale handle, a wild buffer, records outside its
//                  memory, a misaligned record array, too many records and an area outside its
//                  memory; replies with the results
//   "TRAP\n"       executes `unreachable` (a trap)
//   "ABORT\n"      calls abort() with a message
//   "GROW\n"       grows memory by 16 pages, then replies "grown <result of memory.grow>\n"
//                  (the host must follow the new buffer; past the memory cap the result is -1)
//   "SPIN\n"       never returns (an endless loop: only a watchdog can stop it)
//   "TICKS\n"      replies "ticks <n>\n": how often its every(100 ms) periodic tick has run
//   "TICKTRAP\n"   replies "armed\n"; its next periodic tick traps (a trap no connection caused)
import {
  wl_close,
  wl_listener,
  wl_recv,
  wl_recv_many,
  wl_send,
  wl_send_many,
  wl_shutdown_handle,
  wl_watch,
} from "../../assembly/abi";
import { bytes, equals } from "../../assembly/bytes";
import { connWrite, every, serve } from "../../assembly/socket";
import { connHandle } from "../../assembly/testing";

export * from "../../guest";

const BADHANDLE = bytes("BADHANDLE\n");
const BADPTR = bytes("BADPTR\n");
const LISTENER = bytes("LISTENER\n");
const BATCH = bytes("BATCH\n");
const TRAP = bytes("TRAP\n");
const ABORT = bytes("ABORT\n");
const GROW = bytes("GROW\n");
const SPIN = bytes("SPIN\n");
let spins: u64 = 0;
const TICKS = bytes("TICKS\n");
let ticks = 0;
const TICKTRAP = bytes("TICKTRAP\n");
let tickTrap = false;

function onTick(now: f64): void {
  ticks++;
  if (tickTrap) unreachable();
}
const SCRATCH = memory.data(64);
const RECORDS = memory.data(64, 16);

function ioRecord(i: i32, handle: i32, buf: usize, len: i32): void {
  const rec = RECORDS + <usize>i * 16;
  store<i32>(rec, handle);
  store<u32>(rec, <u32>buf, 4);
  store<i32>(rec, len, 8);
}

function reply(slot: u32, s: string): void {
  const b = String.UTF8.encode(s);
  connWrite(slot, changetype<usize>(b), b.byteLength);
}

/** BADHANDLE: every hostcall on a handle this instance does not own. */
function badHandleProbe(h: i32): string {
  const stale = h + (1 << 20) * 5; // same index, another generation
  return (
    "recv=" +
    wl_recv(stale, SCRATCH, 8).toString() +
    " send=" +
    wl_send(0x7fff, SCRATCH, 8).toString() +
    " zero=" +
    wl_recv(0, SCRATCH, 8).toString() +
    " negative=" +
    wl_send(-1, SCRATCH, 8).toString() +
    " close=" +
    wl_close(12345).toString() +
    " watch=" +
    wl_watch(999, 1, 0, 0).toString() +
    " shutdown=" +
    wl_shutdown_handle((7 << 20) | 2, 1).toString() +
    "\n"
  );
}

/** BADPTR: wild pointers and lengths on the connection's own handle. */
function badPtrProbe(h: i32): string {
  const end = (<usize>memory.size()) << 16;
  return (
    "recv=" +
    wl_recv(h, end - 4, 8).toString() +
    " send=" +
    wl_send(h, 0xfffffff0, 64).toString() +
    " huge=" +
    wl_send(h, 0, -1).toString() +
    " zero=" +
    wl_recv(h, SCRATCH, 0).toString() +
    " watchbits=" +
    wl_watch(h, 0x40000000, 0, 0).toString() +
    "\n"
  );
}

/** BATCH: recv_many/send_many with bad records, and bad calls. */
function batchProbe(h: i32): string {
  const end = (<usize>memory.size()) << 16;
  ioRecord(0, h + (1 << 20) * 5, SCRATCH, 8); // a stale handle
  ioRecord(1, h, end - 4, 8); // its own handle, a buffer past the end
  const call = wl_send_many(RECORDS, 2);
  return (
    "stale=" +
    load<i32>(RECORDS, 12).toString() +
    " wild=" +
    load<i32>(RECORDS + 16, 12).toString() +
    " call=" +
    call.toString() +
    " outside=" +
    wl_send_many(end - 16, 2).toString() +
    " misaligned=" +
    wl_recv_many(RECORDS + 2, 1, SCRATCH, 64).toString() +
    " many=" +
    wl_send_many(RECORDS, 5000).toString() +
    " area=" +
    wl_recv_many(RECORDS, 1, end - 8, 64).toString() +
    "\n"
  );
}

/** LISTENER: connection calls on the listener, and a listener that does not exist. */
function listenerProbe(): string {
  const l = wl_listener(0);
  return (
    "recv=" +
    wl_recv(l, SCRATCH, 8).toString() +
    " close=" +
    wl_close(l).toString() +
    " missing=" +
    wl_listener(7).toString() +
    "\n"
  );
}

function evilData(slot: u32, ptr: usize, len: i32): i32 {
  const h = connHandle(slot);
  if (equals(ptr, len, BADHANDLE)) {
    reply(slot, badHandleProbe(h));
  } else if (equals(ptr, len, BADPTR)) {
    reply(slot, badPtrProbe(h));
  } else if (equals(ptr, len, BATCH)) {
    reply(slot, batchProbe(h));
  } else if (equals(ptr, len, LISTENER)) {
    reply(slot, listenerProbe());
  } else if (equals(ptr, len, TRAP)) {
    unreachable();
  } else if (equals(ptr, len, ABORT)) {
    abort("evil guest gave up", "evil.ts", 1, 2);
  } else if (equals(ptr, len, TICKTRAP)) {
    tickTrap = true;
    reply(slot, "armed\n");
  } else if (equals(ptr, len, TICKS)) {
    reply(slot, "ticks " + ticks.toString() + "\n");
  } else if (equals(ptr, len, SPIN)) {
    while (spins != U64.MAX_VALUE) spins++; // about 2^64 iterations: forever
  } else if (equals(ptr, len, GROW)) {
    reply(slot, "grown " + memory.grow(16).toString() + "\n");
  } else {
    return connWrite(slot, ptr, len);
  }
  return len;
}

serve(evilData);
every(100, onTick);
