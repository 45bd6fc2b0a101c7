// Writing JSON into a response without allocating: pieces are gathered in a small buffer and
// handed to res.writeBytes() when it fills. Strings are written from bytes, one character per
// byte (ISO-8859-1), so any byte a request may carry round-trips: JSON.parse() of the output
// gives back exactly the bytes as a latin1 string.

import { ByteBuf } from "./buffers";
import { putDecimal, putHexBytes } from "./put";
import { Response } from "./response";

/** Size of the gathering buffer. */
const CAP: i32 = 2048;
/** Room the longest single piece needs: a \u00XX escape, or a 20-digit number. */
const PIECE: i32 = 32;

@final
export class JsonWriter {
  private buf: StaticArray<u8> = new StaticArray<u8>(CAP);
  private n: i32 = 0;
  private res: Response | null = null;
  private out: ByteBuf | null = null;

  /** Starts writing into `res`. */
  begin(res: Response): JsonWriter {
    this.res = res;
    this.out = null;
    this.n = 0;
    return this;
  }

  /** Starts writing into the buffer `b` (appended to). */
  beginBuffer(b: ByteBuf): JsonWriter {
    this.res = null;
    this.out = b;
    this.n = 0;
    return this;
  }

  /** Writes ASCII text as it is (punctuation, keys): the caller makes it valid JSON. */
  raw(s: string): JsonWriter {
    for (let i = 0; i < s.length; i++) this.byte(<u8>s.charCodeAt(i));
    return this;
  }

  /** Writes the bytes as a JSON string, quoted and escaped. */
  bytes(p: usize, len: i32): JsonWriter {
    this.byte(0x22);
    for (let i = 0; i < len; i++) this.char(<u32>load<u8>(p + <usize>i));
    this.byte(0x22);
    return this;
  }

  /** Writes a non-negative integer. */
  number(v: i64): JsonWriter {
    this.room(PIECE);
    this.n += putDecimal(this.at(), <u64>v);
    return this;
  }

  /** Writes the bytes in lower-case hex, as a JSON string. */
  hex(p: usize, len: i32): JsonWriter {
    this.byte(0x22);
    for (let i = 0; i < len; i += 8) {
      const k = min(8, len - i);
      this.room(2 * k);
      putHexBytes(this.at(), p + <usize>i, k);
      this.n += 2 * k;
    }
    this.byte(0x22);
    return this;
  }

  /** Hands what is gathered to the response. */
  flush(): void {
    const start = this.at() - <usize>this.n;
    if (this.n > 0 && this.res !== null) this.res!.writeBytes(start, this.n);
    if (this.n > 0 && this.out !== null) this.out!.append(start, this.n);
    this.n = 0;
  }

  private char(c: u32): void {
    if (c == 0x22 || c == 0x5c) {
      this.byte(0x5c);
      this.byte(<u8>c);
      return;
    }
    if (c >= 0x20 && c < 0x7f) {
      this.byte(<u8>c);
      return;
    }
    this.raw("\\u00");
    this.byte(hexDigit(c >> 4));
    this.byte(hexDigit(c & 15));
  }

  private byte(b: u8): void {
    this.room(1);
    store<u8>(this.at(), b);
    this.n++;
  }

  private room(k: i32): void {
    if (this.n + k > CAP) this.flush();
  }

  // @ts-ignore: decorator
  @inline private at(): usize {
    return changetype<usize>(this.buf) + <usize>this.n;
  }
}

function hexDigit(d: u32): u8 {
  return <u8>(d < 10 ? 0x30 + d : 0x57 + d);
}
