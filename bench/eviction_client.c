/* eviction_client.c: the cache-aside load of bench/eviction.py (issue 8).
 *
 * Reads keys with a Zipf skew and fills in what is missing, as an
 * application in front of a database does: GET key; on a miss, SET key
 * value. Keys are "key:%010u" for ranks 0..keys-1, rank 0 the most popular;
 * the rank of each read is drawn from a Zipf(s) distribution by binary search
 * in its precomputed CDF, with a seeded xorshift generator, so ember and
 * redis-server see exactly the same sequence.
 *
 * One connection, pipelined: each batch sends the SETs for the previous
 * batch's misses followed by `pipeline` GETs, and reads all their replies
 * before the next batch, so there is one round trip per batch.
 *
 * Usage: eviction_client PORT KEYS VALUE_SIZE ZIPF_S OPS PIPELINE SEED
 * Prints one JSON object: gets, hits, sets, set_errors, seconds.
 * Built by bench/eviction.py with plain gcc; not part of the ember build. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_FMT "key:%010u"
#define KEY_LEN 14

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double *cdf;
static uint32_t nkeys;

static void zipf_init(uint32_t n, double s)
{
    cdf = malloc(sizeof(double) * n);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += 1.0 / pow((double)(i + 1), s);
        cdf[i] = sum;
    }
    for (uint32_t i = 0; i < n; i++)
        cdf[i] /= sum;
    nkeys = n;
}

static uint32_t zipf_next(void)
{
    double u = (double)(next_u64() >> 11) * 0x1.0p-53;
    uint32_t lo = 0, hi = nkeys - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] < u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* ---- Connection ---- */

static int fd;
static char *in;
static size_t in_len, in_cap, in_pos;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void send_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) die("write");
        p += n;
        len -= (size_t)n;
    }
}

/* Makes sure `need` bytes are buffered from in_pos on. */
static void fill(size_t need)
{
    while (in_len - in_pos < need) {
        if (in_pos > 0) {
            memmove(in, in + in_pos, in_len - in_pos);
            in_len -= in_pos;
            in_pos = 0;
        }
        if (in_cap - in_len < 65536) {
            in_cap = in_cap * 2 + 65536;
            in = realloc(in, in_cap);
        }
        ssize_t n = read(fd, in + in_len, in_cap - in_len);
        if (n <= 0) die("read");
        in_len += (size_t)n;
    }
}

/* Reads a line (without \r\n) at in_pos; returns its length. */
static size_t read_line(void)
{
    for (;;) {
        char *nl = memchr(in + in_pos, '\n', in_len - in_pos);
        if (nl != NULL) return (size_t)(nl - (in + in_pos)) + 1;
        fill(in_len - in_pos + 1);
    }
}

/* Reads one reply: 1 for a bulk string, 0 for a null, -1 for an error,
 * 2 for anything else. */
static int read_reply(void)
{
    size_t n = read_line();
    char type = in[in_pos];
    long long len = 0;
    if (type == '$') len = atoll(in + in_pos + 1);
    in_pos += n;
    if (type == '-') return -1;
    if (type != '$') return 2;
    if (len < 0) return 0;
    fill((size_t)len + 2);
    in_pos += (size_t)len + 2;
    return 1;
}

static void connect_to(int port)
{
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s PORT KEYS VALUE_SIZE ZIPF_S OPS PIPELINE SEED\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    uint32_t keys = (uint32_t)strtoul(argv[2], NULL, 10);
    int vsize = atoi(argv[3]);
    double s = atof(argv[4]);
    long long ops = atoll(argv[5]);
    int pipeline = atoi(argv[6]);
    rng ^= strtoull(argv[7], NULL, 10) * 0x9E3779B97F4A7C15ULL;
    if (rng == 0) rng = 1;
    zipf_init(keys, s);
    connect_to(port);

    char *value = malloc((size_t)vsize);
    memset(value, 'v', (size_t)vsize);
    char get_hdr[] = "*2\r\n$3\r\nGET\r\n$14\r\n";
    char set_hdr[] = "*3\r\n$3\r\nSET\r\n$14\r\n";
    char vhdr[32];
    int vhdr_len = snprintf(vhdr, sizeof(vhdr), "$%d\r\n", vsize);
    size_t out_cap = (size_t)pipeline * (64 + (size_t)vsize) * 2;
    char *out = malloc(out_cap);
    uint32_t *batch = malloc(sizeof(uint32_t) * (size_t)pipeline);
    uint32_t *missed = malloc(sizeof(uint32_t) * (size_t)pipeline);
    int nmissed = 0;
    long long gets = 0, hits = 0, sets = 0, set_errors = 0;

    double start = now_s();
    while (gets < ops || nmissed > 0) {
        size_t len = 0;
        char key[KEY_LEN + 1];
        for (int i = 0; i < nmissed; i++) {
            memcpy(out + len, set_hdr, sizeof(set_hdr) - 1);
            len += sizeof(set_hdr) - 1;
            snprintf(key, sizeof(key), KEY_FMT, missed[i]);
            memcpy(out + len, key, KEY_LEN);
            len += KEY_LEN;
            memcpy(out + len, "\r\n", 2);
            len += 2;
            memcpy(out + len, vhdr, (size_t)vhdr_len);
            len += (size_t)vhdr_len;
            memcpy(out + len, value, (size_t)vsize);
            len += (size_t)vsize;
            memcpy(out + len, "\r\n", 2);
            len += 2;
        }
        int n = ops - gets < pipeline ? (int)(ops - gets) : pipeline;
        for (int i = 0; i < n; i++) {
            batch[i] = zipf_next();
            memcpy(out + len, get_hdr, sizeof(get_hdr) - 1);
            len += sizeof(get_hdr) - 1;
            snprintf(key, sizeof(key), KEY_FMT, batch[i]);
            memcpy(out + len, key, KEY_LEN);
            len += KEY_LEN;
            memcpy(out + len, "\r\n", 2);
            len += 2;
        }
        send_all(out, len);
        for (int i = 0; i < nmissed; i++) {
            sets++;
            if (read_reply() < 0) set_errors++;
        }
        nmissed = 0;
        for (int i = 0; i < n; i++) {
            int r = read_reply();
            gets++;
            if (r == 1) {
                hits++;
            } else {
                missed[nmissed++] = batch[i];
            }
        }
    }
    double secs = now_s() - start;
    printf("{\"gets\": %lld, \"hits\": %lld, \"sets\": %lld, \"set_errors\": %lld, "
           "\"seconds\": %.6f}\n",
           gets, hits, sets, set_errors, secs);
    close(fd);
    return 0;
}
