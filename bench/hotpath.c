/* hotpath.c: the server's own cost per pipelined request, without sockets.
 *
 * redis-benchmark on a shared 2-CPU machine measures the kernel, the client
 * and the neighbours as much as the server. This runs the server in process
 * (server_init_embedded(), as the fuzzer does), loads `keys` string keys
 * named as redis-benchmark names them (key:%012d, 3-byte values), then
 * feeds batches of `pipeline` GET (or SET) requests for random keys through
 * client_read_buffer()/client_feed() exactly as net.c delivers a read, and
 * drops the replies after each batch as a flush would. It reports
 * CPU nanoseconds per request (this thread's CPU time, so neighbours taking
 * turns on the CPU do not count): the minimum and the median over `rounds` runs of
 * `requests` each (the minimum is the least disturbed run).
 *
 *   hotpath [get|set] [keys] [pipeline] [requests] [rounds]
 *   defaults: get 1000000 64 2000000 7
 *
 * Built by CMake as bench_hotpath (Release: build/bench_hotpath). */
#include "ember/client.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/log.h"
#include "ember/net.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: immune to time slicing */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Delivers bytes as net.c does: into client_read_buffer(), at most its
 * room per read. */
static void deliver(struct client *c, const char *p, size_t n)
{
    while (n > 0) {
        size_t room;
        char *buf = client_read_buffer(c, &room);
        size_t k = n < room ? n : room;
        memcpy(buf, p, k);
        client_feed(c, buf, k);
        p += k;
        n -= k;
    }
}

/* Appends one request for key number k: GET key or SET key xxx. */
static size_t put_request(char *dst, bool set, unsigned long k)
{
    if (set) {
        return (size_t)sprintf(dst, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012lu\r\n$3\r\nxxx\r\n", k);
    }
    return (size_t)sprintf(dst, "*2\r\n$3\r\nGET\r\n$16\r\nkey:%012lu\r\n", k);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bool set = argc > 1 && strcmp(argv[1], "set") == 0;
    unsigned long keys = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    int pipeline = argc > 3 ? atoi(argv[3]) : 64;
    long requests = argc > 4 ? atol(argv[4]) : 2000000;
    int rounds = argc > 5 ? atoi(argv[5]) : 7;
    if (keys == 0 || pipeline < 1 || requests < pipeline || rounds < 1 || rounds > 99) {
        fprintf(stderr, "usage: hotpath [get|set] [keys] [pipeline] [requests] [rounds]\n");
        return 2;
    }

    config_init(&server.cfg);
    if (log_setup(LOG_WARNING, "/dev/null") < 0 || server_init_embedded() < 0) return 1;
    struct client *c = client_create();
    server_link_client(c);

    /* Load every key, 1,000 per batch. */
    char *buf = malloc((size_t)(pipeline > 1000 ? pipeline : 1000) * 64);
    for (unsigned long k = 0; k < keys;) {
        size_t n = 0;
        for (int i = 0; i < 1000 && k < keys; i++, k++)
            n += put_request(buf + n, true, k);
        deliver(c, buf, n);
        net_flush_pending();
        reply_release(c);
    }

    /* The workload: pre-built batches (random keys, fixed seed), reused. */
    enum { BATCHES = 4096 };
    size_t *len = malloc(BATCHES * sizeof(*len));
    char **batch = malloc(BATCHES * sizeof(*batch));
    struct rng rng;
    rng_seed(&rng, 42);
    for (int b = 0; b < BATCHES; b++) {
        batch[b] = malloc((size_t)pipeline * 64);
        len[b] = 0;
        for (int i = 0; i < pipeline; i++)
            len[b] += put_request(batch[b] + len[b], set, rng_next(&rng) % keys);
    }

    double per[99];
    long nbatches = requests / pipeline;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long b = 0; b < nbatches; b++) {
            deliver(c, batch[b % BATCHES], len[b % BATCHES]);
            net_flush_pending();
            reply_release(c);
        }
        per[r] = (now_ns() - t0) / (double)(nbatches * pipeline);
    }
    double sorted[99];
    memcpy(sorted, per, sizeof(double) * (size_t)rounds);
    qsort(sorted, (size_t)rounds, sizeof(double), cmp_double);
    printf("%s keys=%lu pipeline=%d requests=%ld rounds=%d ns/req min=%.1f median=%.1f\n",
           set ? "set" : "get", keys, pipeline, nbatches * pipeline, rounds, sorted[0],
           sorted[rounds / 2]);

    for (int b = 0; b < BATCHES; b++)
        free(batch[b]);
    free(batch);
    free(len);
    free(buf);
    server_unlink_client(c);
    client_destroy(c);
    server.pending_writes = NULL;
    return 0;
}
