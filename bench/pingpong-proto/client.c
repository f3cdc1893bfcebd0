/* Ping-pong client for the prototype servers and the fleet: CLIENTS threads,
 * each connected to PATH (a "%d" in PATH is replaced by the client's number,
 * for the fleet's vm-N.qmp), sending `{"execute": "query-status"}` and reading
 * to the reply's newline, one request at a time, for SECONDS. With --qmp each
 * client first reads the greeting and negotiates.
 *
 * Prints one line: rate (req/s), the server's CPU per request (µs, every
 * thread, /proc/PID/stat), the clients' CPU per request (µs, getrusage), the
 * clients' voluntary sleeps per request, and the server's context switches per
 * request (every live thread, /proc/PID/task/N/status).
 *
 * usage: client PATH CLIENTS SECONDS SERVER_PID [--qmp]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "{\"execute\": \"query-status\"}\n";
static atomic_int stop;
static const char *path_fmt;
static int qmp;
static pthread_barrier_t ready, start;

struct worker { int index; int fd; long requests; };

static int read_line(int fd, char *buf, size_t size) {
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, size - have);
        if (n <= 0) return -1;
        have += n;
        if (buf[have - 1] == '\n') return 0;
        if (have == size) have = 0;
    }
}

static void *worker(void *arg) {
    struct worker *w = arg;
    char path[108], buf[4096];
    snprintf(path, sizeof path, path_fmt, w->index);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { perror(path); exit(1); }
    if (qmp) {
        static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
        if (read_line(fd, buf, sizeof buf) || write(fd, caps, sizeof caps - 1) < 0 || read_line(fd, buf, sizeof buf)) { fprintf(stderr, "negotiation failed\n"); exit(1); }
    }
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&start);
    long count = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (write(fd, request, sizeof request - 1) < 0 || read_line(fd, buf, sizeof buf)) { fprintf(stderr, "round trip failed\n"); exit(1); }
        count++;
    }
    w->requests = count;
    w->fd = fd; /* closed after the server's counters are read: a thread per client ends with it */
    return NULL;
}

static double server_user;
static double server_cpu_seconds(int pid) {
    char p[64], s[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f || !fgets(s, sizeof s, f)) { perror(p); exit(1); }
    fclose(f);
    char *c = strrchr(s, ')') + 2;
    unsigned long utime, stime;
    /* fields after the comm: state(3) ... utime(14) stime(15) */
    sscanf(c, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    server_user = (double)utime / sysconf(_SC_CLK_TCK);
    return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

static long server_switches(int pid) {
    char p[300], line[256];
    snprintf(p, sizeof p, "/proc/%d/task", pid);
    DIR *d = opendir(p);
    long total = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "/proc/%d/task/%s/status", pid, e->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            long v;
            if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 || sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1) total += v;
        }
        fclose(f);
    }
    if (d) closedir(d);
    return total;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: client PATH CLIENTS SECONDS SERVER_PID [--qmp]\n"); return 2; }
    path_fmt = argv[1];
    int clients = atoi(argv[2]), pid = atoi(argv[4]);
    double seconds = atof(argv[3]);
    qmp = argc > 5 && !strcmp(argv[5], "--qmp");
    pthread_barrier_init(&ready, NULL, clients + 1);
    pthread_barrier_init(&start, NULL, clients + 1);
    pthread_t *t = calloc(clients, sizeof *t);
    struct worker *w = calloc(clients, sizeof *w);
    for (int i = 0; i < clients; i++) { w[i].index = i; pthread_create(&t[i], NULL, worker, &w[i]); }
    pthread_barrier_wait(&ready);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double c0 = server_cpu_seconds(pid), u0 = server_user, t0 = now();
    long s0 = server_switches(pid);
    pthread_barrier_wait(&start);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop, 1);
    for (int i = 0; i < clients; i++) pthread_join(t[i], NULL);
    double t1 = now(), c1 = server_cpu_seconds(pid), u1 = server_user;
    long s1 = server_switches(pid);
    getrusage(RUSAGE_SELF, &r1);
    for (int i = 0; i < clients; i++) close(w[i].fd);
    long total = 0;
    for (int i = 0; i < clients; i++) total += w[i].requests;
    double client_cpu = tv(r1.ru_utime) - tv(r0.ru_utime) + tv(r1.ru_stime) - tv(r0.ru_stime);
    printf("rate %.0f server_us %.2f server_user_us %.2f client_us %.2f client_sleeps %.2f server_switches %.2f requests %ld\n",
           total / (t1 - t0), (c1 - c0) * 1e6 / total, (u1 - u0) * 1e6 / total, client_cpu * 1e6 / total,
           (double)(r1.ru_nvcsw - r0.ru_nvcsw) / total, (double)(s1 - s0) / total, total);
    return 0;
}
