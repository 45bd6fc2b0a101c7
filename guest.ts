// `export * from "wasmloop/guest"`: the exports the host looks for in every guest (docs/ABI.md),
// for an app's entry file in the user's own project. AssemblyScript resolves "wasmloop/NAME" to
// node_modules/wasmloop/NAME.ts, so the package's AssemblyScript API is these top-level files
// (guest.ts, http.ts, socket.ts), each a re-export of assembly/.
export {
  wl_abi_version_1,
  wl_init,
  wl_events_ptr,
  wl_events_cap,
  wl_dispatch,
  wl_shutdown,
  wl_stats_ptr,
  wl_salvage,
  wl_salvage_record,
  wl_trap_reply,
  wl_adopt,
  wl_retire,
} from "./assembly/loop";
