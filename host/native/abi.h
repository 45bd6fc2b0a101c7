/*
 * The numbers of the wasmloop ABI v1 that the shim relies on (docs/ABI.md). host/abi.ts
 * defines them for the TypeScript host; test/abi-constants.test.ts reads this file and fails
 * when a value here disagrees with it. The Linux values are also asserted against the system
 * headers below, so the chain Linux -> C -> TS -> guest is checked end to end.
 */
#ifndef WL_ABI_H
#define WL_ABI_H

#include <sys/epoll.h>
#include <sys/socket.h>

/* One packed event record in guest memory: u32 events, then the u64 data (token). */
#define WL__EVENT_SIZE 12
/* The most records one epollWait writes (the guest's ring may not be larger). */
#define WL__MAX_EVENTS 65536

/* One recv_many/send_many record: i32 handle, u32 buf, u32 len, i32 result. */
#define WL__IO_RECORD 16
/* The most records one recv_many/send_many takes. */
#define WL__MAX_IO 4096

/* epoll event bits, epoll_ctl operations, shutdown directions: Linux values, which the shim
 * passes through untranslated. */
#define WL__EPOLLIN 0x001
#define WL__EPOLLOUT 0x004
#define WL__EPOLLERR 0x008
#define WL__EPOLLHUP 0x010
#define WL__EPOLLRDHUP 0x2000
#define WL__EPOLLET 0x80000000u
#define WL__EPOLL_CTL_ADD 1
#define WL__EPOLL_CTL_DEL 2
#define WL__EPOLL_CTL_MOD 3
#define WL__SHUT_RD 0
#define WL__SHUT_WR 1
#define WL__SHUT_RDWR 2

_Static_assert(WL__EPOLLIN == EPOLLIN, "EPOLLIN");
_Static_assert(WL__EPOLLOUT == EPOLLOUT, "EPOLLOUT");
_Static_assert(WL__EPOLLERR == EPOLLERR, "EPOLLERR");
_Static_assert(WL__EPOLLHUP == EPOLLHUP, "EPOLLHUP");
_Static_assert(WL__EPOLLRDHUP == EPOLLRDHUP, "EPOLLRDHUP");
_Static_assert(WL__EPOLLET == (unsigned)EPOLLET, "EPOLLET");
_Static_assert(WL__EPOLL_CTL_ADD == EPOLL_CTL_ADD, "EPOLL_CTL_ADD");
_Static_assert(WL__EPOLL_CTL_DEL == EPOLL_CTL_DEL, "EPOLL_CTL_DEL");
_Static_assert(WL__EPOLL_CTL_MOD == EPOLL_CTL_MOD, "EPOLL_CTL_MOD");
_Static_assert(WL__SHUT_RD == SHUT_RD, "SHUT_RD");
_Static_assert(WL__SHUT_WR == SHUT_WR, "SHUT_WR");
_Static_assert(WL__SHUT_RDWR == SHUT_RDWR, "SHUT_RDWR");

#endif
