// Linux epoll event bits, as they appear in the event ring and in watch(). Masks are u32:
// EPOLLET is bit 31 and would be negative as an i32.
export const EPOLLIN: u32 = 0x001;
export const EPOLLOUT: u32 = 0x004;
export const EPOLLERR: u32 = 0x008;
export const EPOLLHUP: u32 = 0x010;
export const EPOLLRDHUP: u32 = 0x2000;
export const EPOLLET: u32 = 0x80000000;

// One packed event record in the ring: u32 events, then the u64 token (docs/ABI.md).
export const EVENT_SIZE: usize = 12;
