/* fuzz_resp.c: libFuzzer target for the request parser (resp_parse and its
 * fast path, resp_parse_plain).
 *
 * Property: what the parser makes of a byte stream does not depend on how the
 * stream is cut into reads. The same bytes are parsed twice, and each run
 * writes a transcript (every frame's argv, then how the stream ended: more
 * bytes needed, or the protocol error text):
 *  - whole: the stream is one buffer; after each frame the next call starts
 *    at the next frame;
 *  - chunked: bytes arrive in pseudo-random pieces (1 byte, a few, or many),
 *    as reads off a socket would. The caller keeps the unparsed frame tail and
 *    calls again with the same frame start plus the new bytes, each time from
 *    a new place, as resp.h allows; the bytes given always end where their
 *    heap buffer ends, so ASan sees any read past them.
 * The transcripts must be byte-identical. When bit 0 of the chunking seed is
 * set, the chunked run does what client.c does: at each frame start it first
 * offers the bytes to resp_parse_plain(), and only where that declines calls
 * resp_parse() (which may be mid-frame from an earlier call; a frame the fast
 * path took resets it). Either way the transcript must not change.
 *
 * Input layout:
 *   byte 0      flags: bit 0 unauthenticated caps, bit 1 proto-max-bulk-len
 *               100, bits 2-4 all set: expand 0xFE X into 8192 copies of X (so lines
 *               longer than RESP_INLINE_MAX are reachable with small inputs)
 *   bytes 1..8  seed of the chunking
 *   the rest    the stream */
#include "ember/resp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPAND_LEN 8192
#define EXPAND_MAX 12
#define STREAM_MAX (EXPAND_MAX * EXPAND_LEN + 64 * 1024) /* longer streams are skipped */

struct transcript {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct transcript *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        while (cap < t->len + n)
            cap *= 2;
        t->p = realloc(t->p, cap);
        if (t->p == NULL) abort();
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

static void put_u64(struct transcript *t, uint64_t v)
{
    put(t, &v, sizeof(v));
}

/* Records a parsed frame; checks what resp.h promises about it. */
static void put_argv(struct transcript *t, int argc, const struct slice *argv, const char *buf,
                     size_t len, size_t consumed)
{
    if (consumed == 0 || consumed > len) abort(); /* no progress, or past the bytes given */
    if (argc < 0) abort();
    put(t, "F", 1);
    put_u64(t, (uint64_t)argc);
    size_t total = 0;
    for (int i = 0; i < argc; i++) {
        const struct slice *a = &argv[i];
        bool inside = a->ptr >= buf && a->ptr + a->len <= buf + len;
        if (buf[0] == '*' && !inside) abort(); /* multibulk arguments point into buf */
        total += a->len;
        put_u64(t, a->len);
        put(t, a->ptr, a->len);
    }
    if (buf[0] == '*' && total > consumed) abort();
}

static void put_frame(struct transcript *t, const struct resp_parser *p, const char *buf,
                      size_t len, size_t consumed)
{
    put_argv(t, p->argc, p->argv, buf, len, consumed);
}

#define PLAIN_MAX 16

static void put_end(struct transcript *t, int rc, const struct resp_parser *p)
{
    if (rc == RESP_INCOMPLETE) {
        put(t, "I", 1);
    } else {
        put(t, "E", 1);
        put(t, p->error, strlen(p->error));
    }
}

/* The whole stream in one buffer. */
static void run_whole(const char *data, size_t n, const struct resp_limits *lim,
                      struct transcript *t)
{
    struct resp_parser p;
    resp_parser_init(&p, lim);
    size_t off = 0;
    for (;;) {
        size_t consumed = 0;
        int rc = resp_parse(&p, data + off, n - off, &consumed);
        if (rc != RESP_OK) {
            put_end(t, rc, &p);
            break;
        }
        put_frame(t, &p, data + off, n - off, consumed);
        off += consumed;
    }
    resp_parser_deinit(&p);
}

static uint64_t next_rand(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL; /* splitmix64 */
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Pieces per run: every call copies the unparsed tail, so long streams get
 * fewer, larger pieces to keep a run linear in practice. */
#define PIECES_SMALL_STREAM 1024
#define PIECES_LARGE_STREAM 48
#define LARGE_STREAM        16384

static size_t chunk_size(uint64_t *seed, size_t left, int pieces_left)
{
    if (pieces_left <= 1) return left;
    uint64_t r = next_rand(seed);
    size_t k;
    switch (r & 3) {
    case 0:
        k = 1;
        break;
    case 1:
        k = 1 + (size_t)((r >> 8) % 8);
        break;
    case 2:
        k = 1 + (size_t)((r >> 8) % 64);
        break;
    default:
        k = 1 + (size_t)((r >> 8) % 16384);
        break;
    }
    return k < left ? k : left;
}

/* Two heap buffers of STREAM_MAX bytes. Each call of the chunked run copies
 * the unparsed tail to the END of the other one: the tail moves on every
 * call, and a read past its last byte runs off the allocation, where ASan
 * sees it, without a malloc per call. */
static char *tail_bufs[2];

static const char *place_tail(const char *src, size_t len, int *which)
{
    *which ^= 1;
    if (tail_bufs[*which] == NULL) {
        tail_bufs[*which] = malloc(STREAM_MAX);
        if (tail_bufs[*which] == NULL) abort();
    }
    char *dst = tail_bufs[*which] + STREAM_MAX - len;
    memcpy(dst, src, len);
    return dst;
}

/* The stream in pieces; the unparsed tail moves on every call. */
static void run_chunked(const char *data, size_t n, uint64_t seed, const struct resp_limits *lim,
                        struct transcript *t)
{
    struct resp_parser p;
    resp_parser_init(&p, lim);
    size_t frame = 0; /* start of the current frame in data */
    size_t have = 0;  /* bytes of data delivered so far */
    int rc = RESP_INCOMPLETE;
    int which = 0;
    int pieces = n > LARGE_STREAM ? PIECES_LARGE_STREAM : PIECES_SMALL_STREAM;
    bool plain_first = seed & 1;
    while (have < n) {
        have += chunk_size(&seed, n - have, pieces--);
        for (;;) {
            size_t len = have - frame;
            const char *tail = place_tail(data + frame, len, &which);
            size_t consumed = 0;
            if (plain_first) {
                struct slice argv[PLAIN_MAX];
                int argc = -1;
                consumed = resp_parse_plain(lim, tail, len, argv, PLAIN_MAX, &argc);
                if (consumed != 0) {
                    resp_parser_reset(&p);
                    put_argv(t, argc, argv, tail, len, consumed);
                    frame += consumed;
                    continue;
                }
            }
            rc = resp_parse(&p, tail, len, &consumed);
            if (rc != RESP_OK) break;
            put_frame(t, &p, tail, len, consumed);
            frame += consumed;
        }
        if (rc == RESP_ERR) break;
    }
    if (rc != RESP_ERR && have == frame) {
        rc = RESP_INCOMPLETE; /* nothing left: the whole run ends asking for more too */
    }
    put_end(t, rc, &p);
    resp_parser_deinit(&p);
}

/* The length of the stream after the 0xFE X expansion. */
static size_t expanded_len(const uint8_t *in, size_t n, bool on)
{
    size_t len = 0, expansions = 0;
    for (size_t i = 0; i < n; i++) {
        if (on && in[i] == 0xFE && i + 1 < n && expansions < EXPAND_MAX) {
            len += EXPAND_LEN;
            expansions++;
            i++;
        } else {
            len++;
        }
    }
    return len;
}

/* Writes the expanded stream to dst (expanded_len() bytes). */
static void expand(const uint8_t *in, size_t n, bool on, char *dst)
{
    size_t o = 0, expansions = 0;
    for (size_t i = 0; i < n; i++) {
        if (on && in[i] == 0xFE && i + 1 < n && expansions < EXPAND_MAX) {
            memset(dst + o, in[i + 1], EXPAND_LEN);
            o += EXPAND_LEN;
            expansions++;
            i++;
        } else {
            dst[o++] = (char)in[i];
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) return 0;
    uint8_t flags = data[0];
    uint64_t seed;
    memcpy(&seed, data + 1, sizeof(seed));
    struct resp_limits lim = {
        .max_bulk_len = (flags & 2) ? 100 : 512LL * 1024 * 1024,
        .authenticated = !(flags & 1),
    };
    bool on = (flags & 0x1c) == 0x1c; /* rare: long streams are slow to run */
    size_t n = expanded_len(data + 9, size - 9, on);
    if (n > STREAM_MAX) return 0;
    static char *whole_buf;
    if (whole_buf == NULL && (whole_buf = malloc(STREAM_MAX)) == NULL) abort();
    char *stream = whole_buf + STREAM_MAX - n; /* ends where the allocation ends */
    expand(data + 9, size - 9, on, stream);

    static struct transcript whole, chunked; /* reused: no allocation per input */
    whole.len = chunked.len = 0;
    run_whole(stream, n, &lim, &whole);
    run_chunked(stream, n, seed, &lim, &chunked);
    if (whole.len != chunked.len || memcmp(whole.p, chunked.p, whole.len) != 0) {
        fprintf(stderr, "fuzz_resp: transcripts differ (whole %zu bytes, chunked %zu bytes)\n",
                whole.len, chunked.len);
        abort();
    }
    return 0;
}
