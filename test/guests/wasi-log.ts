// An echo guest that also uses WASI preview1: it writes "open <n>\n" to stdout for every
// connection it accepts, and answers "ENV\n" with the value of its GREETING variable. Tests
// check that WASI imports link next to the wasmloop ones and that output reaches the host.
import { bytes, equals } from "../../assembly/bytes";
import { connWrite, serve } from "../../assembly/socket";

export * from "../../guest";

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: usize, count: i32, written: usize): i32;
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, size: usize): i32;
@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(environ: usize, buf: usize): i32;

const IOV = memory.data(16);
const ENV_CMD = bytes("ENV\n");
let opened = 0;

function writeOut(s: string): void {
  const b = String.UTF8.encode(s);
  store<usize>(IOV, changetype<usize>(b));
  store<u32>(IOV, b.byteLength, 4);
  fd_write(1, IOV, 1, IOV + 8);
}

/** The value of GREETING in the WASI environment, or "". */
function greeting(): string {
  environ_sizes_get(IOV, IOV + 4);
  const count = load<u32>(IOV),
    size = load<u32>(IOV, 4);
  const ptrs = heap.alloc(count * 4),
    buf = heap.alloc(size);
  environ_get(ptrs, buf);
  for (let i: u32 = 0; i < count; i++) {
    const s = String.UTF8.decodeUnsafe(load<usize>(ptrs + i * 4), <usize>size, true);
    if (s.startsWith("GREETING=")) return s.substring(9);
  }
  return "";
}

function onOpen(slot: u32): void {
  opened++;
  writeOut("open " + opened.toString() + "\n");
}

function onData(slot: u32, ptr: usize, len: i32): i32 {
  if (!equals(ptr, len, ENV_CMD)) return connWrite(slot, ptr, len);
  const b = String.UTF8.encode(greeting() + "\n");
  connWrite(slot, changetype<usize>(b), b.byteLength);
  return len;
}

serve(onData, onOpen);
