#ifndef QMPFLEET_CUV_SHIM_H
#define QMPFLEET_CUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <malloc.h>
#include <sys/epoll.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define CUV_HAVE_OPENAT2 1
#endif

/* CMSG_* are macros Swift cannot import; these inline wrappers expose them. */
static inline size_t cuv_cmsg_space(size_t len) { return CMSG_SPACE(len); }
static inline size_t cuv_cmsg_len(size_t len) { return CMSG_LEN(len); }
static inline struct cmsghdr *cuv_cmsg_firsthdr(struct msghdr *m) { return CMSG_FIRSTHDR(m); }
static inline struct cmsghdr *cuv_cmsg_nxthdr(struct msghdr *m, struct cmsghdr *c) { return CMSG_NXTHDR(m, c); }
static inline unsigned char *cuv_cmsg_data(struct cmsghdr *c) { return CMSG_DATA(c); }
/* accept4 is declared only under _GNU_SOURCE, which would make this module's
 * view of the C library differ from Swift's Glibc module; declare it here. */
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
static inline int cuv_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* openat2(2) (Linux 5.6): glibc has no wrapper and Swift cannot call the
 * variadic syscall(2). -1 with errno ENOSYS where the kernel lacks it. */
static inline int cuv_openat2(int dirfd, const char *path, int flags, unsigned mode, unsigned long long resolve) {
#if defined(SYS_openat2) && defined(CUV_HAVE_OPENAT2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(unsigned)flags;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    errno = ENOSYS;
    return -1;
#endif
}
/* RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, spelled out
 * for kernels' headers that lack them (the values are ABI). */
static inline unsigned long long cuv_resolve_beneath_no_links(void) { return 0x08 | 0x04 | 0x02; }
/* splice(2) (pipe to pipe) with SPLICE_F_NONBLOCK (2): the kernel honours
 * the flag per call, whatever O_NONBLOCK either description has. Through
 * syscall(2), as glibc declares splice only under _GNU_SOURCE. */
static inline long cuv_splice_nonblocking(int in, int out, size_t len) {
#ifdef SYS_splice
    return syscall(SYS_splice, in, NULL, out, NULL, len, 2u);
#else
    errno = ENOSYS;
    return -1;
#endif
}
/* renameat2(2) with RENAME_NOREPLACE (1): the rename fails with EEXIST
 * instead of replacing what is there, so a new socket needs no lstat of its
 * path first. Through syscall(2), as glibc declares renameat2 only under
 * _GNU_SOURCE. -1 with errno ENOSYS where the kernel lacks it (EINVAL where
 * the file system does). */
static inline int cuv_rename_noreplace(const char *from, const char *to) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1u);
#else
    errno = ENOSYS;
    return -1;
#endif
}
/* malloc_trim(3) and mallinfo2(3) (glibc 2.33): Swift's Glibc module
 * leaves <malloc.h> out. */
static inline int cuv_malloc_trim(void) { return malloc_trim(0); }
static inline size_t cuv_malloc_free_bytes(void) { return mallinfo2().fordblks; }
/* mallopt(3): free memory glibc keeps at a heap's top (M_TRIM_THRESHOLD),
 * and the size from which an allocation is a mapping of its own
 * (M_MMAP_THRESHOLD). */
static inline void cuv_malloc_thresholds(int trim, int mmap) {
    mallopt(M_TRIM_THRESHOLD, trim);
    mallopt(M_MMAP_THRESHOLD, mmap);
}
/* An epoll set of the caller's own (`ListenerPoll`): a descriptor
 * registered, changed or removed by its number, level-triggered, and the
 * numbers of the ready ones taken without waiting. `struct epoll_event` is
 * packed on x86-64, which Swift does not import field by field. */
static inline int cuv_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
static inline int cuv_epoll_control(int epfd, int op, int fd, int readable) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = readable ? EPOLLIN : 0;
    event.data.fd = fd;
    return epoll_ctl(epfd, op, fd, &event);
}
static inline int cuv_epoll_add(int epfd, int fd) { return cuv_epoll_control(epfd, EPOLL_CTL_ADD, fd, 1); }
static inline int cuv_epoll_watch(int epfd, int fd, int readable) { return cuv_epoll_control(epfd, EPOLL_CTL_MOD, fd, readable); }
static inline int cuv_epoll_remove(int epfd, int fd) { return cuv_epoll_control(epfd, EPOLL_CTL_DEL, fd, 0); }
/* At most 64 ready descriptors into fds; their count, 0 when none, -1 on error. */
static inline int cuv_epoll_ready(int epfd, int *fds, int max) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, 0);
    for (int i = 0; i < n; i++) fds[i] = events[i].data.fd;
    return n;
}
#endif
