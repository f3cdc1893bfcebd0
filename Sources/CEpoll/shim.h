#ifndef QMPFLEET_CEPOLL_SHIM_H
#define QMPFLEET_CEPOLL_SHIM_H
/* epoll, which Swift's Glibc module leaves out: the benchmark's fan-out
 * clients watch a thousand sockets edge-triggered, which libuv cannot. */
#include <sys/epoll.h>
#endif
