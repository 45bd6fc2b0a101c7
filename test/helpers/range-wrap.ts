/**
 * The ranges test/range-wrap*.test.ts name: each ends, taken modulo 2^32, INSIDE a memory of
 * MEM_SIZE bytes, so that a check written as `(u32)(ptr + len) <= size` passes it; the correct
 * check answers -EFAULT.
 */
import { Errno } from '../../host/errno.ts';

export const EFAULT = -Errno.EFAULT;
/** ptr + len = 0x1_0000_0100: out of memory, but 0x100 (in memory) in 32-bit arithmetic. */
export const WRAP_PTR = 0xffffff00;
export const WRAP_LEN = 0x200;
/** 16-byte aligned start whose records (2 x 16 bytes) end at 0x10 mod 2^32. */
export const WRAP_RECORDS = 0xfffffff0;
export const MEM_SIZE = 1 << 16;
