// After a trap (docs/ABI.md, wl_salvage): which connections of the trapped instance the host
// can save. Runs in a trapped instance, so it reads and never allocates.

import { callSalvage, running } from "./hooks";
import { conn, usedSlots, State } from "./table";

export const enum Salvage {
  NONE = 0,
  ADOPT = 1,
  REPLY = 2,
  CLOSE = 3,
  END = -1,
}

/** The record wl_salvage describes a connection in: handle, its unread input, the output it is
 *  still owed (i32, then two u32 pointer/length pairs). */
export const SALVAGE_RECORD: usize = memory.data(20, 4);

/** What the host may do with `slot`'s connection after a trap, the record filled in:
 *  ADOPT a connection between protocol units (the host sends the output it is owed, then hands
 *  it with its unread input to a fresh instance through wl_adopt); for the connection whose
 *  code was running (hooks.ts `running`), REPLY when the protocol says nothing of its current
 *  answer has gone out, else CLOSE (either way the host sends the output owed, then the trap
 *  reply for REPLY, then it closes); NONE for the rest (the host closes them); END past the
 *  last slot ever used. */
export function connSalvage(slot: i32): i32 {
  if (slot < 0 || slot >= usedSlots()) return Salvage.END;
  const c = conn(slot);
  if (c.state == State.FREE) return Salvage.NONE;
  store<i32>(SALVAGE_RECORD, c.handle);
  salvageRange(4, 0, 0);
  salvageRange(12, c.outBuf + <usize>c.outStart, c.outEnd - c.outStart);
  const open = c.state == State.READING || c.state == State.WRITING;
  if (slot == running) return open && callSalvage(<u32>slot, true) ? Salvage.REPLY : Salvage.CLOSE;
  if (!open || c.wantDrain || !callSalvage(<u32>slot, false)) return Salvage.NONE;
  salvageRange(4, c.inBuf + <usize>c.inStart, c.inEnd - c.inStart);
  return Salvage.ADOPT;
}

function salvageRange(at: usize, ptr: usize, len: i32): void {
  store<u32>(SALVAGE_RECORD + at, len > 0 ? <u32>ptr : 0);
  store<u32>(SALVAGE_RECORD + at, len > 0 ? <u32>len : 0, 4);
}
