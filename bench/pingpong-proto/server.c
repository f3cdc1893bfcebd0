/* Ping-pong prototype servers for issue 20 (session 12): each answers a
 * fixed QMP-sized reply per newline-terminated request on a unix socket,
 * without parsing, in one of these shapes:
 *
 *   block   a blocking thread per client, read + write (the bench's echo peer)
 *   epoll   LOOPS threads, each an epoll loop: epoll_wait + recv + send (the fleet's shape)
 *   epoll-peek  the same, but the request is read with MSG_PEEK and consumed
 *           (a second recv) only after its reply is sent: consuming it wakes
 *           the client blocked in read (a unix socket's reader and writer share
 *           one wait queue), which then finds no reply and sleeps again
 *   uring   LOOPS threads, each an io_uring: multishot recv into a provided-buffer
 *           ring, a send SQE per reply, submitted with the wait for the next
 *           completion in one io_uring_enter (flags: URING_FLAGS=coop|defer|none)
 *   hybrid  LOOPS threads, each an epoll loop (as libuv's) watching the ring's fd:
 *           multishot recv completions reaped from the CQ ring without a system
 *           call, the reply sent by a send SQE and one io_uring_enter (submit only)
 *   hybrid-send  the same, the reply sent by a plain send() instead of an SQE
 *           (with 16 clients it stalled in session 12; not debugged, left out
 *           of docs/performance.md's table)
 *
 * With WORK_NS=N in the environment each server spins N ns per request
 * between reading it and sending its reply: the fleet's own work on that
 * path (parse, dispatch, history, reply), so the shapes can be compared at
 * the fleet's turnaround as well as at none. WORK_AFTER=1 spins the same
 * time after the reply has been sent instead (work moved off that path).
 *
 * usage: server SHAPE PATH [LOOPS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char reply[] = "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}\r\n";
static const size_t reply_len = sizeof(reply) - 1;

enum { MAX_CONN = 1024, BUF_COUNT = 64, BUF_SIZE = 4096, BGID = 1 };

static int listener;
static const char *shape;
static int loops = 1;
static unsigned uring_flags;
static long work_ns;
static int work_after;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* The work a request costs between its read and its reply (WORK_NS). */
static void simulate_work(int requests) {
    if (!work_ns || work_after) return;
    long until = now_ns() + work_ns * requests;
    while (now_ns() < until) ;
}

/* Newlines in a chunk: how many replies it asks for. */
static int count_requests(const char *p, ssize_t n) {
    int c = 0;
    for (ssize_t i = 0; i < n; i++) c += p[i] == '\n';
    return c;
}

static void send_replies(int fd, int count) {
    static __thread char out[64 * 128];
    simulate_work(count);
    while (count > 0) {
        int k = count > 64 ? 64 : count;
        for (int i = 0; i < k; i++) memcpy(out + i * reply_len, reply, reply_len);
        if (send(fd, out, k * reply_len, MSG_NOSIGNAL) < 0) return;
        if (work_after) { work_after = 0; simulate_work(k); work_after = 1; }
        count -= k;
    }
}

/* ---- block ---- */
static void *block_client(void *arg) {
    int fd = (int)(long)arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        int c = count_requests(buf, n);
        if (c) send_replies(fd, c);
    }
    close(fd);
    return NULL;
}

static void run_block(void) {
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        pthread_t t;
        pthread_create(&t, NULL, block_client, (void *)(long)fd);
        pthread_detach(t);
    }
}

/* ---- a loop: epoll, uring or hybrid; connections handed over by a pipe ---- */
struct loop {
    int handoff[2];
    int epfd;
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    char *bufs;
    int epoll_ready;
};

static void add_buffer(struct loop *l, int bid) {
    io_uring_buf_ring_add(l->br, l->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid, io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(l->br, 1);
}

static void ring_init(struct loop *l) {
    struct io_uring_params p = {0};
    p.flags = uring_flags;
    int rc = io_uring_queue_init_params(256, &l->ring, &p);
    if (rc < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc)); exit(2); }
    size_t size = BUF_COUNT * sizeof(struct io_uring_buf);
    if (posix_memalign((void **)&l->br, 4096, size)) exit(2);
    io_uring_buf_ring_init(l->br);
    struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)l->br, .ring_entries = BUF_COUNT, .bgid = BGID };
    rc = io_uring_register_buf_ring(&l->ring, &reg, 0);
    if (rc < 0) { fprintf(stderr, "register_buf_ring: %s\n", strerror(-rc)); exit(2); }
    l->bufs = malloc((size_t)BUF_COUNT * BUF_SIZE);
    for (int i = 0; i < BUF_COUNT; i++) add_buffer(l, i);
}

/* user_data: fd in the low 32 bits, kind in the high */
enum { UD_RECV = 1, UD_SEND = 2, UD_EPOLL = 3 };
#define UD(kind, fd) (((unsigned long long)(kind) << 32) | (unsigned)(fd))

static void arm_recv(struct loop *l, int fd) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, UD(UD_RECV, fd));
}

static void queue_send(struct loop *l, int fd, int count) {
    simulate_work(count);
    /* A fixed reply: one SQE per reply (count is 1 in ping-pong). */
    for (int i = 0; i < count; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
        if (!sqe) { io_uring_submit(&l->ring); sqe = io_uring_get_sqe(&l->ring); }
        io_uring_prep_send(sqe, fd, reply, reply_len, MSG_NOSIGNAL);
        /* No completion for a send that succeeds: in the hybrid it would
         * make the ring's fd readable and cost an extra epoll wake-up. */
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        io_uring_sqe_set_data64(sqe, UD(UD_SEND, fd));
    }
}

static void arm_epoll_watch(struct loop *l);

/* Reaps every CQE; returns how many SQEs were queued. */
static int reap(struct loop *l, int plain_send) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int queued = 0;
    io_uring_for_each_cqe(&l->ring, head, cqe) {
        seen++;
        unsigned long long ud = io_uring_cqe_get_data64(cqe);
        int kind = ud >> 32, fd = (int)(ud & 0xffffffffu);
        if (kind == UD_RECV) {
            if (cqe->res <= 0) {
                /* Out of provided buffers ends a multishot recv: arm it again. */
                if (cqe->res == -ENOBUFS) { arm_recv(l, fd); queued++; }
                else if (!(cqe->flags & IORING_CQE_F_MORE)) close(fd);
                continue;
            }
            int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            int c = count_requests(l->bufs + (size_t)bid * BUF_SIZE, cqe->res);
            add_buffer(l, bid);
            if (c) {
                if (plain_send) send_replies(fd, c);
                else { queue_send(l, fd, c); queued += c; }
            }
            if (!(cqe->flags & IORING_CQE_F_MORE)) { arm_recv(l, fd); queued++; }
        } else if (kind == UD_EPOLL) {
            l->epoll_ready = 1;
        } else if (kind == UD_SEND && cqe->res < 0) {
            /* only failures post a CQE (IOSQE_CQE_SKIP_SUCCESS) */
        }
    }
    io_uring_cq_advance(&l->ring, seen);
    return queued;
}

static int take_handoff(struct loop *l) {
    int fd;
    if (read(l->handoff[0], &fd, sizeof fd) != sizeof fd) return -1;
    return fd;
}

static int peek_first;

static void *run_epoll(void *arg) {
    struct loop *l = arg;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l->handoff[0] }, evs[64];
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->handoff[0], &ev);
    char buf[65536];
    for (;;) {
        int n = epoll_wait(l->epfd, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l->handoff[0]) {
                int c = take_handoff(l);
                struct epoll_event e = { .events = EPOLLIN, .data.fd = c };
                epoll_ctl(l->epfd, EPOLL_CTL_ADD, c, &e);
                continue;
            }
            ssize_t r = recv(fd, buf, sizeof buf, peek_first ? MSG_PEEK : 0);
            if (r <= 0) { if (r == 0 || errno != EAGAIN) { epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL); close(fd); } continue; }
            int c = count_requests(buf, r);
            if (c) send_replies(fd, c);
            if (peek_first) recv(fd, buf, r, 0);
        }
    }
    return NULL;
}

/* The ring drives the thread; the loop's other descriptors stay in an epoll
 * set (here the handoff pipe, in the fleet libuv's backend fd) that the ring
 * watches with a poll: when it fires, the epoll set is drained with
 * a zero timeout (libuv's uv_run(UV_RUN_NOWAIT)). */
static void arm_epoll_watch(struct loop *l) {
    /* One-shot, re-armed after each drain: a poll armed checks readiness at
     * once, so an epoll set left ready (level-triggered items it still holds)
     * fires again. A multishot poll would not: epoll wakes its own waiters
     * only when an item newly becomes ready. */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
    io_uring_prep_poll_add(sqe, l->epfd, POLLIN);
    io_uring_sqe_set_data64(sqe, UD(UD_EPOLL, l->epfd));
}

static void *run_uring(void *arg) {
    struct loop *l = arg;
    ring_init(l);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l->handoff[0] }, evs[64];
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->handoff[0], &ev);
    arm_epoll_watch(l);
    for (;;) {
        /* One io_uring_enter: submit the replies queued, wait for the next completion. */
        io_uring_submit_and_wait(&l->ring, 1);
        reap(l, 0);
        if (l->epoll_ready) {
            l->epoll_ready = 0;
            int n = epoll_wait(l->epfd, evs, 64, 0);
            for (int i = 0; i < n; i++) { int c = take_handoff(l); if (c >= 0) arm_recv(l, c); }
            arm_epoll_watch(l);
        }
    }
    return NULL;
}

static void *run_hybrid(void *arg, int plain_send) {
    struct loop *l = arg;
    ring_init(l);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l->handoff[0] }, evs[64];
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->handoff[0], &ev);
    ev.data.fd = l->ring.ring_fd;
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->ring.ring_fd, &ev);
    int pending = 0;
    for (;;) {
        int n = epoll_wait(l->epfd, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == l->handoff[0]) {
                int c = take_handoff(l);
                if (c >= 0) { arm_recv(l, c); pending++; }
            } else {
                pending += reap(l, plain_send);
            }
        }
        if (pending) {
            /* DEFER_TASKRUN rings need an enter with GETEVENTS to run their work. */
            if (uring_flags & IORING_SETUP_DEFER_TASKRUN) io_uring_get_events(&l->ring);
            io_uring_submit(&l->ring);
            pending = 0;
        } else if (uring_flags & IORING_SETUP_DEFER_TASKRUN) {
            io_uring_get_events(&l->ring);
            pending += reap(l, plain_send);
            if (pending) { io_uring_submit(&l->ring); pending = 0; }
        }
    }
    return NULL;
}
static void *run_hybrid_sqe(void *arg) { return run_hybrid(arg, 0); }
static void *run_hybrid_send(void *arg) { return run_hybrid(arg, 1); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: server block|epoll|uring|hybrid|hybrid-send PATH [LOOPS]\n"); return 2; }
    shape = argv[1];
    if (argc > 3) loops = atoi(argv[3]);
    const char *work = getenv("WORK_NS");
    if (work) work_ns = atol(work);
    work_after = getenv("WORK_AFTER") && atoi(getenv("WORK_AFTER"));
    const char *f = getenv("URING_FLAGS");
    if (!f || !strcmp(f, "coop")) uring_flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    else if (!strcmp(f, "defer")) uring_flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    else uring_flags = 0;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[2]);
    unlink(a.sun_path);
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 128)) { perror("bind"); return 1; }
    if (!strcmp(shape, "block")) { run_block(); return 0; }
    if (!strcmp(shape, "epoll-peek")) { peek_first = 1; shape = "epoll"; }
    void *(*body)(void *) = !strcmp(shape, "epoll") ? run_epoll : !strcmp(shape, "uring") ? run_uring
        : !strcmp(shape, "hybrid") ? run_hybrid_sqe : !strcmp(shape, "hybrid-send") ? run_hybrid_send : NULL;
    if (!body) { fprintf(stderr, "unknown shape %s\n", shape); return 2; }
    struct loop *ls = calloc(loops, sizeof *ls);
    for (int i = 0; i < loops; i++) {
        if (pipe(ls[i].handoff)) return 1;
        ls[i].epfd = epoll_create1(EPOLL_CLOEXEC);
        pthread_t t;
        pthread_create(&t, NULL, body, &ls[i]);
    }
    for (int next = 0;; next = (next + 1) % loops) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) continue;
        if (write(ls[next].handoff[1], &fd, sizeof fd) != sizeof fd) close(fd);
    }
}
