// @limits
// wasm/test/tls-info.wasm: answers each chunk of input with what the host says of the
// connection's TLS through the tls_info hostcall: "tls alpn=A sni=S\n", or "plain\n".
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

function answer(slot: u32, ptr: usize, len: i32): i32 {
  const text = String.UTF8.encode(describe(connHandle(slot)));
  connWrite(slot, changetype<usize>(text), text.byteLength);
  return len;
}

serve(answer);
