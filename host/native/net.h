/*
 * Thin, N-API-free wrappers over the Linux socket and epoll calls the host needs.
 *
 * Every function returns >= 0 on success or a negative WASI errno (errno.h); none of them
 * touches errno's value for the caller. Pointers and lengths are trusted here (binding.c has
 * already checked that each buffer lies inside the guest memory it came from), except in
 * wl__io_many, which checks every range it reads from guest memory itself.
 */
#ifndef WL_NET_H
#define WL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* Longest numeric host string, with its NUL (INET6_ADDRSTRLEN, IPv4-mapped form included). */
#define WL__HOST_MAX 46

int wl__epoll_create(void);
int wl__epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/* Writes up to max_events (>= 1) packed records at out; EINTR is retried here and only here. */
int wl__epoll_wait(int epfd, void *out, int max_events, int timeout_ms);

/*
 * 0 if fd is an epoll instance, -EBADF if it is not open, -EINVAL if it is something else.
 * Reads /proc/self/fd; without /proc it can only rule out closed fds.
 */
int wl__check_epoll(int fd);

/* A non-blocking, close-on-exec listener on a numeric IPv4/IPv6 address. */
int wl__listen(const char *host, int port, int backlog, bool reuse_port);
/* getsockname(): host (NUL-terminated, WL__HOST_MAX bytes), port, family (4 or 6). */
int wl__local_address(int fd, char host[WL__HOST_MAX], int *port, int *family);
/* getpeername(): the same for a connection's remote end (-ENOTCONN for a listener). */
int wl__peer_address(int fd, char host[WL__HOST_MAX], int *port, int *family);

/* accept4(NONBLOCK | CLOEXEC) + TCP_NODELAY: the new fd. */
int wl__accept(int fd);
/*
 * Byte counts above INT32_MAX are clamped so the result always fits the return value. Made as
 * plain syscalls (recvfrom/sendto, what glibc's recv and send make), not through glibc: its
 * wrappers are cancellation points, which in a process with more than one thread (Node always
 * has several) bracket each syscall with two atomic updates of the thread's cancel state, ~20 ns
 * of user time per call (docs/PERFORMANCE.md, "Connection core round"). Nothing in the
 * process uses pthread_cancel. The syscalls and their results (-1 with errno) are the same.
 * send passes MSG_NOSIGNAL: a closed peer is -EPIPE, never a SIGPIPE for the whole process.
 */
int wl__recv(int fd, void *buf, uint32_t len);
int wl__send(int fd, const void *buf, uint32_t len);
int wl__shutdown(int fd, int how);

/*
 * recv_many/send_many (docs/ABI.md) over guest memory mem[0, size): n (<= WL__MAX_IO)
 * records of WL__IO_RECORD bytes at mem + ptr. fds[i] is record i's descriptor, or a negative
 * errno the caller already decided (bad handle), stored as its result untouched. Returns 0, or
 * -EFAULT for the call as a whole (records or area outside memory; then no record is touched).
 */
int wl__io_many(const int32_t *fds, unsigned char *mem, size_t size, uint32_t ptr, uint32_t n,
                uint32_t area, uint32_t area_len, bool is_send);
int wl__close(int fd);

/* inherit.c. 0 if fd is a listening IPv4/IPv6 stream socket, made non-blocking and close-on-exec
 * here; else -EBADF, -ENOTSOCK, -EINVAL (not a listening stream socket), -EAFNOSUPPORT. */
int wl__adopt_listener(int fd);
/* A close-on-exec duplicate (>= 3) of fd, sharing its socket: another worker's copy. */
int wl__dup_listener(int fd);

#endif
