#ifndef QMPFLEET_CUV_SHIM_H
#define QMPFLEET_CUV_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
/* accept4 needs _GNU_SOURCE, which Swift's Glibc module does not set. */
static inline int cuv_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
