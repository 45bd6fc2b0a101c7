/*
 * The hot syscalls without glibc's cancellation wrappers.
 *
 * glibc makes recv, send, epoll_wait and accept4 thread-cancellation points: in a process with
 * more than one thread (Node always has several) each call toggles the calling thread's
 * asynchronous-cancel state around the syscall, two atomic read-modify-writes on the thread
 * descriptor. perf put them at ~0.05 µs per keep-alive request (`__pthread_enable_asynccancel`
 * and `__pthread_disable_asynccancel`, docs/PERFORMANCE.md), and a C server, single-threaded,
 * never pays them. Nothing in a Node process cancels threads with pthread_cancel, so the shim
 * makes these calls through syscall(2), which is not a cancellation point. Same arguments,
 * same results, same errno as the libc calls they replace.
 */
#ifndef WL_SYS_H
#define WL_SYS_H

#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline ssize_t wl__sys_recv(int fd, void *buf, size_t len, int flags) {
  return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t wl__sys_send(int fd, const void *buf, size_t len, int flags) {
  return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static inline int wl__sys_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
#ifdef SYS_epoll_wait
  return (int)syscall(SYS_epoll_wait, epfd, events, max, timeout);
#else /* arm64 and newer ports have only epoll_pwait; a null mask makes it epoll_wait */
  return (int)syscall(SYS_epoll_pwait, epfd, events, max, timeout, NULL, 0);
#endif
}

static inline int wl__sys_accept4(int fd, int flags) {
  return (int)syscall(SYS_accept4, fd, NULL, NULL, flags);
}

#endif
