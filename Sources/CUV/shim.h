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
#endif
