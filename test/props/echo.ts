/** The echo guest (wasm/echo.wasm): every byte comes back, in order; EOF ends the connection. */
import type { Random } from '../../host/kernel/sim/random.ts';
import { randomBytes, type Exchange, type GuestModel } from './model.ts';

/** Larger than the 64 KiB output buffer, so a peer that does not read leaves it full. */
const PRIME_BYTES = 100_000;

export const echoModel: GuestModel = {
  guest: 'echo',
  about: 'every byte back, in order',
  exchange(rng: Random, budget: number): Exchange {
    const input = randomBytes(rng, rng.int(0, budget));
    return { input, output: input, ends: false, refused: false, units: undefined };
  },
  prime() {
    const input = new Uint8Array(PRIME_BYTES).fill(0x5a);
    // Echo consumes only what fits in the output, so input is never left over: one buffer.
    return {
      exchange: { input, output: input, ends: false, refused: false, units: undefined },
      buffers: 1,
    };
  },
};
