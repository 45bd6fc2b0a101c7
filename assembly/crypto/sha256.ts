// SHA-256 (FIPS 180-4), streaming: update() takes any number of bytes at a time, so a body of
// any size is hashed as it passes, in constant memory. Written for this project from the
// standard's description. The round constants and initial hash value are the standard's
// definitions computed at start-up (the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes, and of the square roots of the first 8); the test vectors in
// test/http-sha256.test.ts pin them. Allocates nothing after construction.

/** Bytes in one block, and in a digest. */
export const BLOCK: i32 = 64;
export const DIGEST: i32 = 32;

const K: usize = memory.data(64 * 4, 4);
const H0: usize = memory.data(8 * 4, 4);
const W: usize = memory.data(64 * 4, 4); // the message schedule, shared (one block at a time)

/** The first 32 bits of the fractional part of `x`. */
function frac32(x: f64): u32 {
  return <u32>((x - Math.floor(x)) * 4294967296.0);
}

function initConstants(): void {
  let found = 0;
  for (let n = 2; found < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++)
      if (n % d == 0) {
        prime = false;
        break;
      }
    if (!prime) continue;
    store<u32>(K + ((<usize>found) << 2), frac32(Math.cbrt(<f64>n)));
    if (found < 8) store<u32>(H0 + ((<usize>found) << 2), frac32(Math.sqrt(<f64>n)));
    found++;
  }
}
initConstants();

// @ts-ignore: decorator
@inline function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

@final
export class Sha256 {
  // Managed arrays, so a collecting runtime frees them with the object; used through pointers.
  private stateWords: StaticArray<u32> = new StaticArray<u32>(8);
  private blockBytes: StaticArray<u8> = new StaticArray<u8>(BLOCK);
  private filled: i32 = 0; // bytes waiting in `block`
  private total: u64 = 0; // bytes hashed so far

  constructor() {
    this.reset();
  }

  // @ts-ignore: decorator
  @inline private get state(): usize {
    return changetype<usize>(this.stateWords);
  }
  // @ts-ignore: decorator
  @inline private get block(): usize {
    return changetype<usize>(this.blockBytes);
  }

  /** Starts a new hash. */
  reset(): void {
    memory.copy(this.state, H0, 32);
    this.filled = 0;
    this.total = 0;
  }

  /** Hashes `len` bytes at `ptr`. */
  update(ptr: usize, len: i32): void {
    this.total += <u64>len;
    if (this.filled > 0) {
      const take = min(len, BLOCK - this.filled);
      memory.copy(this.block + <usize>this.filled, ptr, <usize>take);
      this.filled += take;
      ptr += <usize>take;
      len -= take;
      if (this.filled < BLOCK) return;
      compress(this.state, this.block);
      this.filled = 0;
    }
    while (len >= BLOCK) {
      compress(this.state, ptr);
      ptr += <usize>BLOCK;
      len -= BLOCK;
    }
    if (len > 0) {
      memory.copy(this.block, ptr, <usize>len);
      this.filled = len;
    }
  }

  /** Finishes the hash and writes the 32-byte digest at `out`; reset() before reusing. */
  final(out: usize): void {
    const bits = this.total << 3;
    const b = this.block;
    store<u8>(b + <usize>this.filled, 0x80);
    this.filled++;
    if (this.filled > BLOCK - 8) {
      memory.fill(b + <usize>this.filled, 0, <usize>(BLOCK - this.filled));
      compress(this.state, b);
      this.filled = 0;
    }
    memory.fill(b + <usize>this.filled, 0, <usize>(BLOCK - 8 - this.filled));
    store<u64>(b + <usize>(BLOCK - 8), bswap<u64>(bits));
    compress(this.state, b);
    for (let i = 0; i < 8; i++)
      store<u32>(out + ((<usize>i) << 2), bswap<u32>(load<u32>(this.state + ((<usize>i) << 2))));
  }

  /** Bytes hashed since reset(). */
  get length(): u64 {
    return this.total;
  }
}

/** The message schedule W[0..64) of the block of 64 bytes at `p` (FIPS 180-4 6.2.2 step 1).
 *  Inlined into compress, its only caller: the same code as when it was written there. */
// @ts-ignore: decorator
@inline function schedule(p: usize): void {
  for (let t = 0; t < 16; t++)
    store<u32>(W + ((<usize>t) << 2), bswap<u32>(load<u32>(p + ((<usize>t) << 2))));
  for (let t = 16; t < 64; t++) {
    const w15 = load<u32>(W + ((<usize>(t - 15)) << 2));
    const w2 = load<u32>(W + ((<usize>(t - 2)) << 2));
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    store<u32>(
      W + ((<usize>t) << 2),
      load<u32>(W + ((<usize>(t - 16)) << 2)) + s0 + load<u32>(W + ((<usize>(t - 7)) << 2)) + s1,
    );
  }
}

/** One block of 64 bytes at `p` into the eight-word state `h` (FIPS 180-4 6.2.2). */
function compress(h: usize, p: usize): void {
  schedule(p);
  let a = load<u32>(h),
    b = load<u32>(h, 4),
    c = load<u32>(h, 8),
    d = load<u32>(h, 12);
  let e = load<u32>(h, 16),
    f = load<u32>(h, 20),
    g = load<u32>(h, 24),
    k = load<u32>(h, 28);
  for (let t = 0; t < 64; t++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = k + S1 + ch + load<u32>(K + ((<usize>t) << 2)) + load<u32>(W + ((<usize>t) << 2));
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + maj;
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(h, load<u32>(h) + a);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + k, 28);
}
