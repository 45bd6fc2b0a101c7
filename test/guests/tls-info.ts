// @limits
// wasm/test/tls-info.wasm: answers each chunk of input with what the host says of the
// connection's TLS through the tls_info hostcall: "tls alpn=A sni=S\n", or "plain\n". A chunk
// "!PTR LEN" instead calls tls_info with that pointer and length, whatever they are (a guest
// that lies to the host), and answers its result: "= N\n".
import { connWrite, serve } from "../../assembly/socket";
import { connHandle } from "../../assembly/testing";
import { wl_tls_info } from "../../assembly/abi";

export * from "../../guest";

const INFO = memory.data(512, 8);

function describe(handle: i32): string {
  const n = wl_tls_info(handle, INFO, 512);
  if (n == 0) return "plain\n";
  if (n < 0) return "error " + n.toString() + "\n";
  const alpnLen = <i32>load<u8>(INFO);
  const sniLen = <i32>load<u8>(INFO + 1 + alpnLen);
  const alpn = String.UTF8.decodeUnsafe(INFO + 1, alpnLen);
  const sni = String.UTF8.decodeUnsafe(INFO + 2 + alpnLen, sniLen);
  return "tls alpn=" + alpn + " sni=" + sni + "\n";
}

/** The decimal number at `at` in the chunk (up to a non-digit), as a u32 (wrapping). */
function number(at: usize, end: usize): u32 {
  let n: u32 = 0;
  for (let c = load<u8>(at); at < end && c >= 0x30 && c <= 0x39; c = load<u8>(++at)) {
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** "!PTR LEN": tls_info with a pointer and length the guest made up. */
function lie(handle: i32, ptr: usize, len: i32): string {
  const end = ptr + <usize>len;
  let at = ptr + 1;
  const where = number(at, end);
  while (at < end && load<u8>(at) != 0x20) at++;
  const size = number(at + 1, end);
  return "= " + wl_tls_info(handle, <usize>where, <i32>size).toString() + "\n";
}

function answer(slot: u32, ptr: usize, len: i32): i32 {
  const handle = connHandle(slot);
  const said = len > 0 && load<u8>(ptr) == 0x21 ? lie(handle, ptr, len) : describe(handle);
  const text = String.UTF8.encode(said);
  connWrite(slot, changetype<usize>(text), text.byteLength);
  return len;
}

serve(answer);
