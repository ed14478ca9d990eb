/* test_resp.c: the RESP request parser and header encoder.
 *
 * Most tests play a client: a `feed()` caller receives the input in chunks,
 * appends each chunk to its buffer (moving the buffer, compacting it in
 * place, or keeping a read offset, as different callers do) and re-calls the
 * parser with the same frame start until it stops answering RESP_OK. Every
 * parsed frame (or the error) is written to a transcript, so a test compares
 * one byte string against the transcript of the frames it expected, and the
 * same input split any other way must give the same transcript.
 *
 * Expected error texts and edge cases were checked against redis-server
 * 7.0.15 over raw sockets; each comment "Redis:" quotes what it did. */
#include "ember/resp.h"
#include "ember/util.h"

#include <limits.h>
#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h and stddef.h first */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define K64 ((size_t)RESP_INLINE_MAX)

static const struct resp_limits lim_default = {512LL * 1024 * 1024, true};

/* ---- Helpers: growable bytes, transcripts, frames ---- */

struct dbuf {
    char *p;
    size_t len, cap;
};

static void db_put(struct dbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n > 0) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void db_str(struct dbuf *b, const char *s)
{
    db_put(b, s, strlen(s));
}

static void db_fill(struct dbuf *b, char c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        db_put(b, &c, 1);
    }
}

static void db_done(struct dbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* Transcript lines: "F<argc>" then "<len>:<bytes>" per argument, or
 * "E<error text>". */
static void record_frame(struct dbuf *t, int argc, const struct slice *argv)
{
    char line[64];
    snprintf(line, sizeof(line), "F%d\n", argc);
    db_str(t, line);
    for (int i = 0; i < argc; i++) {
        snprintf(line, sizeof(line), "%zu:", argv[i].len);
        db_str(t, line);
        db_put(t, argv[i].ptr, argv[i].len);
        db_str(t, "\n");
    }
}

static void record_error(struct dbuf *t, const char *text)
{
    db_str(t, "E");
    db_str(t, text);
    db_str(t, "\n");
}

/* Appends a multibulk request for argv, its headers from the encoder. */
static void encode_frame(struct dbuf *out, int argc, const struct slice *argv)
{
    char hdr[RESP_HDR_MAX];
    db_put(out, hdr, resp_encode_header(hdr, '*', argc));
    for (int i = 0; i < argc; i++) {
        db_put(out, hdr, resp_encode_header(hdr, '$', (long long)argv[i].len));
        db_put(out, argv[i].ptr, argv[i].len);
        db_put(out, "\r\n", 2);
    }
}

static void assert_bytes_equal(const struct dbuf *got, const struct dbuf *want)
{
    if (got->len != want->len || memcmp(got->p, want->p, got->len) != 0) {
        print_error("transcript mismatch:\n--- got (%zu bytes)\n%.*s\n--- want (%zu bytes)\n%.*s\n",
                    got->len, (int)(got->len > 2000 ? 2000 : got->len), got->p, want->len,
                    (int)(want->len > 2000 ? 2000 : want->len), want->p);
        fail();
    }
}

/* ---- Helpers: a simulated client ---- */

enum caller_mode {
    CALLER_MOVE,    /* every append copies into a fresh allocation */
    CALLER_INPLACE, /* memmove parsed frames out, realloc to grow */
    CALLER_OFFSET,  /* never compact: the frame start advances in the buffer */
};

/* Delivers in[0..n) in chunks ending at cuts[0..ncuts) (ascending, may repeat)
 * and then n, parsing after each chunk as a client would. Writes each frame
 * or the error to t; returns the bytes left unparsed. */
static size_t feed(const struct resp_limits *lim, enum caller_mode mode, const char *in, size_t n,
                   const size_t *cuts, int ncuts, struct dbuf *t)
{
    struct resp_parser p;
    resp_parser_init(&p, lim);
    char *q = NULL;
    size_t qlen = 0, qoff = 0, cap = 0, fed = 0;
    bool dead = false;

    for (int c = 0; c <= ncuts && !dead; c++) {
        size_t end = c < ncuts ? cuts[c] : n;
        assert_true(end >= fed && end <= n);
        size_t add = end - fed;
        if (mode == CALLER_MOVE) {
            char *nq = malloc(qlen - qoff + add + 1);
            assert_non_null(nq);
            if (qlen > qoff) memcpy(nq, q + qoff, qlen - qoff);
            if (add > 0) memcpy(nq + qlen - qoff, in + fed, add);
            free(q);
            q = nq;
            qlen = qlen - qoff + add;
            qoff = 0;
        } else {
            if (mode == CALLER_INPLACE && qoff > 0) {
                memmove(q, q + qoff, qlen - qoff);
                qlen -= qoff;
                qoff = 0;
            }
            if (q == NULL || qlen + add > cap) {
                cap = (qlen + add) * 2 + 16;
                q = realloc(q, cap);
                assert_non_null(q);
            }
            if (add > 0) memcpy(q + qlen, in + fed, add);
            qlen += add;
        }
        fed = end;

        for (;;) {
            size_t consumed = 0;
            int rc = resp_parse(&p, q + qoff, qlen - qoff, &consumed);
            if (rc == RESP_INCOMPLETE) break;
            if (rc == RESP_ERR) {
                record_error(t, p.error);
                dead = true;
                break;
            }
            assert_int_equal(rc, RESP_OK);
            assert_true(consumed > 0 && consumed <= qlen - qoff);
            record_frame(t, p.argc, p.argv);
            qoff += consumed;
        }
    }
    size_t left = dead ? 0 : qlen - qoff;
    free(q);
    resp_parser_deinit(&p);
    return left;
}

/* Feeds `in` whole and one byte at a time; both must give `want`. */
static void expect_transcript(const struct resp_limits *lim, const char *in, size_t n,
                              const struct dbuf *want)
{
    struct dbuf t = {0};
    assert_int_equal(feed(lim, CALLER_MOVE, in, n, NULL, 0, &t), 0);
    assert_bytes_equal(&t, want);
    db_done(&t);

    size_t *cuts = malloc((n + 1) * sizeof(*cuts));
    assert_non_null(cuts);
    for (size_t i = 0; i < n; i++) {
        cuts[i] = i;
    }
    assert_int_equal(feed(lim, CALLER_INPLACE, in, n, cuts, (int)n, &t), 0);
    assert_bytes_equal(&t, want);
    db_done(&t);
    free(cuts);
}

/* `in` must fail with exactly `text`, whole and byte by byte. */
static void expect_error_n(const struct resp_limits *lim, const char *in, size_t n,
                           const char *text)
{
    struct dbuf want = {0};
    record_error(&want, text);
    expect_transcript(lim, in, n, &want);
    db_done(&want);
}

static void expect_error(const struct resp_limits *lim, const char *in, const char *text)
{
    expect_error_n(lim, in, strlen(in), text);
}

/* `in` must parse as exactly one frame with these arguments, consuming all
 * of it, and every proper prefix must be incomplete. */
static void expect_frame_n(const struct resp_limits *lim, const char *in, size_t n, int argc,
                           const struct slice *argv)
{
    struct dbuf want = {0};
    record_frame(&want, argc, argv);
    expect_transcript(lim, in, n, &want);
    db_done(&want);

    struct resp_parser p;
    resp_parser_init(&p, lim);
    size_t consumed = 0;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(resp_parse(&p, in, k, &consumed), RESP_INCOMPLETE);
    }
    assert_int_equal(resp_parse(&p, in, n, &consumed), RESP_OK);
    assert_int_equal(consumed, n);
    resp_parser_deinit(&p);
}

static void expect_frame(const struct resp_limits *lim, const char *in, int argc,
                         const struct slice *argv)
{
    expect_frame_n(lim, in, strlen(in), argc, argv);
}

/* Parses buf whole with a fresh parser; returns the status. */
static int parse_once(const struct resp_limits *lim, const char *buf, size_t len, size_t *consumed)
{
    struct resp_parser p;
    resp_parser_init(&p, lim);
    int rc = resp_parse(&p, buf, len, consumed);
    resp_parser_deinit(&p);
    return rc;
}

/* splitmix64: the tests' own seeded generator. */
static uint64_t test_rng_state;

static uint64_t test_rand(void)
{
    uint64_t z = (test_rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t test_below(size_t n)
{
    return (size_t)(test_rand() % n);
}

/* ---- Encoder ---- */

static void check_header(char prefix, long long v, const char *want)
{
    char dst[RESP_HDR_MAX];
    memset(dst, 'Z', sizeof(dst));
    size_t n = resp_encode_header(dst, prefix, v);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(dst, want, n);
}

static void test_encode_header(void **state)
{
    (void)state;
    check_header('*', 0, "*0\r\n");
    check_header('$', 5, "$5\r\n");
    check_header(':', 9, ":9\r\n");
    check_header(':', 10, ":10\r\n");
    check_header(':', 42, ":42\r\n");
    check_header('$', 16384, "$16384\r\n");
    check_header(':', -1, ":-1\r\n");
    check_header('*', -1, "*-1\r\n");
    check_header(':', -10, ":-10\r\n");
    check_header(':', LLONG_MAX, ":9223372036854775807\r\n");
    check_header(':', LLONG_MIN, ":-9223372036854775808\r\n");
    check_header(':', 1000000000000LL, ":1000000000000\r\n");
}

static void test_encode_header_round_trip(void **state)
{
    (void)state;
    test_rng_state = 7;
    for (int i = 0; i < 10000; i++) {
        long long v = (long long)(test_rand() >> test_below(64));
        if (test_below(2)) v = -v;
        char dst[RESP_HDR_MAX], want[RESP_HDR_MAX];
        size_t n = resp_encode_header(dst, ':', v);
        int m = snprintf(want, sizeof(want), ":%lld\r\n", v);
        assert_int_equal(n, (size_t)m);
        assert_memory_equal(dst, want, n);
        long long back;
        assert_true(str_to_ll(dst + 1, n - 3, &back));
        assert_int_equal(back, v);
    }
}

/* ---- Multibulk: valid frames ---- */

static void test_multibulk_simple(void **state)
{
    (void)state;
    const char buf[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1\r\n";
    struct resp_parser p;
    resp_parser_init(&p, &lim_default);
    size_t consumed = 0;
    assert_int_equal(resp_parse(&p, buf, sizeof(buf) - 1, &consumed), RESP_OK);
    assert_int_equal(consumed, 22);
    assert_int_equal(p.argc, 2);
    /* Zero copy: the arguments point into the caller's buffer. */
    assert_ptr_equal(p.argv[0].ptr, buf + 8);
    assert_int_equal(p.argv[0].len, 3);
    assert_ptr_equal(p.argv[1].ptr, buf + 17);
    assert_int_equal(p.argv[1].len, 3);
    assert_int_equal(resp_parse(&p, buf + 22, 4, &consumed), RESP_INCOMPLETE);
    resp_parser_deinit(&p);
    resp_parser_deinit(&p); /* harmless twice */
}

static void test_every_prefix_incomplete(void **state)
{
    (void)state;
    const struct slice set[] = {SLICE_LIT("SET"), SLICE_LIT("key"), SLICE_LIT("value")};
    expect_frame(&lim_default, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", 3, set);

    const struct slice empty_arg[] = {SLICE_LIT("ECHO"), SLICE_LIT("")};
    expect_frame(&lim_default, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", 2, empty_arg);

    const struct slice ten[] = {SLICE_LIT("0123456789")};
    expect_frame(&lim_default, "*1\r\n$10\r\n0123456789\r\n", 1, ten);

    /* A frame built from many arguments, every one a prefix boundary. */
    struct dbuf in = {0};
    struct slice args[40];
    char words[40][8];
    for (int i = 0; i < 40; i++) {
        int n = snprintf(words[i], sizeof(words[i]), "w%d", i * 37);
        args[i] = (struct slice){words[i], (size_t)n};
    }
    encode_frame(&in, 40, args);
    expect_frame_n(&lim_default, in.p, in.len, 40, args);
    db_done(&in);
}

static void test_empty_frames(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t consumed;
    } cases[] = {
        {"*0\r\n", 4},
        {"*-1\r\n", 5},
        {"*-5\r\n*1\r\n$4\r\nPING\r\n", 5},
        {"*-9223372036854775808\r\n", 23}, /* Redis: silently skipped */
        {"*0\rX", 4},                      /* the byte after '\r' is not checked */
        {"\r\n", 2},
        {"\n", 1},
        {"   \r\n", 5},
        {"\t \t\n", 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp_parser p;
        resp_parser_init(&p, &lim_default);
        size_t consumed = 0;
        assert_int_equal(resp_parse(&p, cases[i].in, strlen(cases[i].in), &consumed), RESP_OK);
        assert_int_equal(p.argc, 0);
        assert_int_equal(consumed, cases[i].consumed);
        resp_parser_deinit(&p);
    }
    expect_frame(&lim_default, "*0\r\n", 0, NULL);
    expect_frame(&lim_default, "\r\n", 0, NULL);
}

static void test_pipeline_many_frames(void **state)
{
    (void)state;
    struct dbuf in = {0}, want = {0}, got = {0};
    char key[32], val[32];
    for (int i = 0; i < 5000; i++) {
        int kn = snprintf(key, sizeof(key), "key:%d", i);
        int vn = snprintf(val, sizeof(val), "%d", i * i);
        struct slice a[3] = {SLICE_LIT("SET"), {key, (size_t)kn}, {val, (size_t)vn}};
        if (i % 7 == 0) {
            db_str(&in, "*0\r\n");
            record_frame(&want, 0, NULL);
        }
        if (i % 11 == 0) {
            db_str(&in, "PING\r\n");
            struct slice ping = SLICE_LIT("PING");
            record_frame(&want, 1, &ping);
        }
        encode_frame(&in, 3, a);
        record_frame(&want, 3, a);
    }
    for (int mode = CALLER_MOVE; mode <= CALLER_OFFSET; mode++) {
        assert_int_equal(feed(&lim_default, mode, in.p, in.len, NULL, 0, &got), 0);
        assert_bytes_equal(&got, &want);
        db_done(&got);
    }
    /* Chunks of 1000 bytes cut frames anywhere. */
    size_t ncuts = in.len / 1000;
    size_t *cuts = malloc((ncuts + 1) * sizeof(*cuts));
    for (size_t i = 0; i < ncuts; i++) {
        cuts[i] = (i + 1) * 1000;
    }
    assert_int_equal(feed(&lim_default, CALLER_INPLACE, in.p, in.len, cuts, (int)ncuts, &got), 0);
    assert_bytes_equal(&got, &want);
    free(cuts);
    db_done(&got);
    db_done(&in);
    db_done(&want);
}

/* A pipeline mixing every frame shape, for the split tests. */
static void build_mixed_pipeline(struct dbuf *in, struct dbuf *want)
{
    static const char bin[] = "a\0b\r\nc$*\n\r";
    const struct slice f1[] = {SLICE_LIT("SET"), SLICE_LIT("k"), {bin, sizeof(bin) - 1}};
    const struct slice f2[] = {SLICE_LIT("set"), SLICE_LIT("a b"), SLICE_LIT("c d"),
                               SLICE_LIT("A\n")};
    const struct slice f3[] = {SLICE_LIT("PING")};
    const struct slice f4[] = {SLICE_LIT("ECHO"), SLICE_LIT("")};
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (char)('a' + i % 26);
    }
    const struct slice f5[] = {SLICE_LIT("APPEND"), SLICE_LIT("x"), {big, sizeof(big)}};

    encode_frame(in, 3, f1);
    record_frame(want, 3, f1);
    db_str(in, "*0\r\n");
    record_frame(want, 0, NULL);
    db_str(in, "set \"a b\" 'c d' \"\\x41\\n\"\r\n");
    record_frame(want, 4, f2);
    db_str(in, "\r\n");
    record_frame(want, 0, NULL);
    db_str(in, "PING\n");
    record_frame(want, 1, f3);
    encode_frame(in, 2, f4);
    record_frame(want, 2, f4);
    db_str(in, "*-1\r\n");
    record_frame(want, 0, NULL);
    encode_frame(in, 3, f5);
    record_frame(want, 3, f5);
    encode_frame(in, 1, f3);
    record_frame(want, 1, f3);
}

static void test_split_anywhere(void **state)
{
    (void)state;
    struct dbuf in = {0}, want = {0}, got = {0};
    build_mixed_pipeline(&in, &want);

    for (int mode = CALLER_MOVE; mode <= CALLER_OFFSET; mode++) {
        /* One cut at every position (0 and n give an empty chunk). */
        for (size_t i = 0; i <= in.len; i++) {
            assert_int_equal(feed(&lim_default, mode, in.p, in.len, &i, 1, &got), 0);
            assert_bytes_equal(&got, &want);
            db_done(&got);
        }
        /* Every byte on its own, and a repeated cut (a call with no news). */
        size_t *cuts = malloc((2 * in.len + 1) * sizeof(*cuts));
        for (size_t i = 0; i < in.len; i++) {
            cuts[2 * i] = cuts[2 * i + 1] = i;
        }
        assert_int_equal(feed(&lim_default, mode, in.p, in.len, cuts, (int)(2 * in.len), &got), 0);
        assert_bytes_equal(&got, &want);
        db_done(&got);
        free(cuts);
    }
    db_done(&in);
    db_done(&want);
}

static void test_split_two_cuts(void **state)
{
    (void)state;
    struct dbuf in = {0}, want = {0}, got = {0};
    build_mixed_pipeline(&in, &want);
    /* The 300-byte argument is long: cut pairs around the other frames. */
    size_t n = in.len;
    for (size_t i = 0; i <= n; i += (i > 60 && i < n - 60) ? 7 : 1) {
        for (size_t j = i; j <= n; j += (j > 60 && j < n - 60) ? 5 : 1) {
            size_t cuts[2] = {i, j};
            int mode = (int)((i + j) % 3);
            assert_int_equal(feed(&lim_default, mode, in.p, n, cuts, 2, &got), 0);
            assert_bytes_equal(&got, &want);
            db_done(&got);
        }
    }
    db_done(&in);
    db_done(&want);
}

static void test_binary_payloads(void **state)
{
    (void)state;
    static const char nul[] = "\0\0\0";
    static const char crlf[] = "\r\n\r\n";
    static const char proto[] = "*1\r\n$4\r\nPING\r\n";
    const struct slice args[] = {{nul, 3}, {crlf, 4}, {proto, sizeof(proto) - 1}};
    struct dbuf in = {0};
    encode_frame(&in, 3, args);
    expect_frame_n(&lim_default, in.p, in.len, 3, args);
    db_done(&in);

    char all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (char)i;
    }
    const struct slice every[] = {{all, sizeof(all)}};
    encode_frame(&in, 1, every);
    expect_frame_n(&lim_default, in.p, in.len, 1, every);
    db_done(&in);
}

/* Redis checks neither the byte after a count line's '\r' nor the two bytes
 * after a payload. Redis: "*1\rX$4\rYPING\r\n" -> +PONG; "*1\r\n$4\r\nPINGxx"
 * -> +PONG. */
static void test_crlf_not_checked(void **state)
{
    (void)state;
    const struct slice ping[] = {SLICE_LIT("PING")};
    expect_frame(&lim_default, "*1\rX$4\rYPING\r\n", 1, ping);
    expect_frame(&lim_default, "*1\r\n$4\r\nPINGxx", 1, ping);
    expect_frame(&lim_default, "*1\r\n$4\r\nPING\n\n", 1, ping);
    const char nuls[] = "*1\r\0$4\r\0PING\0\0";
    expect_frame_n(&lim_default, nuls, sizeof(nuls) - 1, 1, ping);

    /* The '$' line still needs the byte after '\r' before it is judged. */
    size_t consumed;
    assert_int_equal(parse_once(&lim_default, "*1\r", 3, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\r\n$4\r", 7, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\r\n$4\r\nPING\r", 13, &consumed),
                     RESP_INCOMPLETE);
}

/* ---- Inline requests ---- */

static void test_inline(void **state)
{
    (void)state;
    const struct slice ping[] = {SLICE_LIT("PING")};
    expect_frame(&lim_default, "PING\r\n", 1, ping);
    expect_frame(&lim_default, "PING\n", 1, ping);
    expect_frame(&lim_default, "  PING  \r\n", 1, ping);
    expect_frame(&lim_default, "PING\r\r\n", 1, ping); /* the inner '\r' is whitespace */

    const struct slice set[] = {SLICE_LIT("set"), SLICE_LIT("k"), SLICE_LIT("v")};
    expect_frame(&lim_default, "set k v\r\n", 3, set);
    expect_frame(&lim_default, "set\tk \t v\n", 3, set);

    const struct slice quoted[] = {SLICE_LIT("set"), SLICE_LIT("a b"), SLICE_LIT("it's"),
                                   SLICE_LIT("A\n\0"), SLICE_LIT("")};
    expect_frame(&lim_default, "set \"a b\" 'it\\'s' \"\\x41\\n\\x00\" \"\"\r\n", 5, quoted);

    /* Anything not starting with '*' is inline, '$' and '+' included. */
    const struct slice dollar[] = {SLICE_LIT("$3")};
    expect_frame(&lim_default, "$3\r\n", 1, dollar);
}

static void test_inline_args_owned_by_parser(void **state)
{
    (void)state;
    struct resp_parser p;
    resp_parser_init(&p, &lim_default);
    char *buf = strdup("echo hello\r\n*1\r\n$4\r\nPING\r\n");
    size_t consumed = 0;
    assert_int_equal(resp_parse(&p, buf, strlen(buf), &consumed), RESP_OK);
    assert_int_equal(consumed, 12);
    memset(buf, 'X', 12);
    assert_int_equal(p.argc, 2);
    assert_int_equal(p.argv[1].len, 5);
    assert_memory_equal(p.argv[1].ptr, "hello", 5); /* a copy, not the buffer */

    /* The next call frees them; a multibulk frame points into the buffer. */
    assert_int_equal(resp_parse(&p, buf + 12, strlen(buf + 12), &consumed), RESP_OK);
    assert_int_equal(p.argc, 1);
    assert_ptr_equal(p.argv[0].ptr, buf + 12 + 8);

    /* Deinit frees inline storage left by the last frame. */
    assert_int_equal(resp_parse(&p, "a b c\n", 6, &consumed), RESP_OK);
    free(buf);
    resp_parser_deinit(&p);
}

/* Redis: -ERR Protocol error: unbalanced quotes in request, then closes. */
static void test_inline_unbalanced_quotes(void **state)
{
    (void)state;
    const char *text = "Protocol error: unbalanced quotes in request";
    expect_error(&lim_default, "echo \"a\r\n", text);
    expect_error(&lim_default, "echo 'a\r\n", text);
    expect_error(&lim_default, "echo \"a\"b\r\n", text);
    expect_error(&lim_default, "echo 'a'b\n", text);
}

/* Redis fails once more than 64KB wait without a '\n' (checked when a read
 * ends); ember applies the same bound whatever the split. */
static void test_inline_too_big(void **state)
{
    (void)state;
    const char *text = "Protocol error: too big inline request";
    struct dbuf in = {0};
    size_t consumed;

    db_fill(&in, 'a', K64);
    assert_int_equal(parse_once(&lim_default, in.p, in.len, &consumed), RESP_INCOMPLETE);
    db_str(&in, "\n"); /* Redis: 65536 bytes then '\n' is an (unknown) command */
    struct slice line = {in.p, K64};
    expect_frame_n(&lim_default, in.p, in.len, 1, &line);
    db_done(&in);

    db_fill(&in, 'a', K64 - 1);
    db_str(&in, "\r\n");
    line = (struct slice){in.p, K64 - 1};
    expect_frame_n(&lim_default, in.p, in.len, 1, &line);
    db_done(&in);

    db_fill(&in, 'a', K64 + 1); /* Redis: 65537 bytes without '\n' */
    expect_error_n(&lim_default, in.p, in.len, text);
    db_str(&in, "\n");
    expect_error_n(&lim_default, in.p, in.len, text);
    db_done(&in);

    /* Words and spaces count alike. */
    for (size_t i = 0; i < K64; i += 8) {
        db_str(&in, "get key ");
    }
    db_str(&in, "x");
    expect_error_n(&lim_default, in.p, in.len, text);
    db_done(&in);
}

/* Redis finds the line end with strchr(), which stops at a NUL: the request
 * hangs until more than 64KB arrive. Redis: "echo a\0b\r\n" -> no reply. */
static void test_nul_hides_line_end(void **state)
{
    (void)state;
    size_t consumed;
    assert_int_equal(parse_once(&lim_default, "echo a\0b\r\n", 10, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "\0\r\n", 3, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\0\r\n", 5, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\r\n$4\0\r\nPING\r\n", 15, &consumed),
                     RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\r\n\0$4\r\nPING\r\n", 15, &consumed),
                     RESP_INCOMPLETE);

    struct dbuf in = {0};
    db_put(&in, "echo a\0b\r\n", 10);
    db_fill(&in, 'x', K64 + 1 - in.len);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big inline request");
    db_done(&in);

    db_put(&in, "*1\0\r\n", 5);
    db_fill(&in, 'a', K64 + 1 - in.len);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big mbulk count string");
    db_done(&in);

    db_put(&in, "*1\r\n\0$4\r\n", 9);
    db_fill(&in, 'a', K64 + 4 - in.len); /* the '$' line holds exactly 64KB */
    assert_int_equal(parse_once(&lim_default, in.p, in.len, &consumed), RESP_INCOMPLETE);
    db_str(&in, "a");
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big bulk count string");
    db_done(&in);
}

/* ---- Multibulk errors ---- */

/* Redis: each of these gets -ERR Protocol error: invalid multibulk length
 * and the connection is closed. */
static void test_invalid_multibulk_length(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "*\r\n",
        "*-0\r\n",
        "*01\r\n",
        "*+1\r\n",
        "* 1\r\n",
        "*1 \r\n",
        "*abc\r\n",
        "*1x\r\n",
        "*2147483648\r\n",
        "*9223372036854775807\r\n",
        "*9223372036854775808\r\n",
        "*-9223372036854775809\r\n",
        "*\n\r\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_error(&lim_default, cases[i], "Protocol error: invalid multibulk length");
    }
}

/* Redis 7.0.15 caps the count at INT_MAX, not 1024*1024 (checked). The
 * parser must not allocate from the announced count. */
static void test_multibulk_count_boundaries(void **state)
{
    (void)state;
    static const char *const waiting[] = {"*1048576\r\n", "*1048577\r\n", "*2147483647\r\n"};
    for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++) {
        struct resp_parser p;
        resp_parser_init(&p, &lim_default);
        struct dbuf in = {0};
        db_str(&in, waiting[i]);
        size_t consumed;
        assert_int_equal(resp_parse(&p, in.p, in.len, &consumed), RESP_INCOMPLETE);
        for (int a = 0; a < 100; a++) {
            db_str(&in, "$1\r\nx\r\n");
            assert_int_equal(resp_parse(&p, in.p, in.len, &consumed), RESP_INCOMPLETE);
        }
        assert_true(p.argv_cap < 1000); /* grown by arrivals, not by the count */
        resp_parser_deinit(&p);
        db_done(&in);
    }
    expect_error(&lim_default, "*2147483648\r\n", "Protocol error: invalid multibulk length");
}

/* Redis: 65536 bytes of count line then "\r\n" -> invalid multibulk length;
 * 65537 bytes without '\r' -> too big mbulk count string. */
static void test_multibulk_count_too_big(void **state)
{
    (void)state;
    struct dbuf in = {0};
    size_t consumed;
    db_str(&in, "*");
    db_fill(&in, '1', K64 - 1);
    assert_int_equal(parse_once(&lim_default, in.p, in.len, &consumed), RESP_INCOMPLETE);
    db_str(&in, "\r");
    assert_int_equal(parse_once(&lim_default, in.p, in.len, &consumed), RESP_INCOMPLETE);
    db_str(&in, "\n");
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: invalid multibulk length");
    db_done(&in);

    db_str(&in, "*");
    db_fill(&in, '1', K64);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big mbulk count string");
    db_done(&in);
}

/* Redis: the first byte of each bulk must be '$'; the error echoes it raw but
 * turns '\r' and '\n' into spaces. Judged only once a '\r' and one more byte
 * are in: "*1\r\nX" and "*1\r\nX\r" wait. */
static void test_expected_dollar(void **state)
{
    (void)state;
    expect_error(&lim_default, "*1\r\nX\r\n", "Protocol error: expected '$', got 'X'");
    expect_error(&lim_default, "*1\r\n:1\r\n", "Protocol error: expected '$', got ':'");
    expect_error(&lim_default, "*1\r\n\r\n", "Protocol error: expected '$', got ' '");
    expect_error(&lim_default, "*1\r\n\n\r\n", "Protocol error: expected '$', got ' '");
    expect_error(&lim_default, "*1\r\n\x80\r\n", "Protocol error: expected '$', got '\x80'");
    expect_error(&lim_default, "*2\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n",
                 "Protocol error: expected '$', got '*'");

    size_t consumed;
    assert_int_equal(parse_once(&lim_default, "*1\r\nX", 5, &consumed), RESP_INCOMPLETE);
    assert_int_equal(parse_once(&lim_default, "*1\r\nX\r", 6, &consumed), RESP_INCOMPLETE);

    /* Earlier frames of the pipeline are delivered before the error. */
    struct dbuf want = {0};
    const struct slice ping = SLICE_LIT("PING");
    record_frame(&want, 1, &ping);
    record_error(&want, "Protocol error: expected '$', got 'X'");
    const char in[] = "*1\r\n$4\r\nPING\r\n*1\r\nX\r\n*1\r\n$4\r\nPING\r\n";
    expect_transcript(&lim_default, in, sizeof(in) - 1, &want);
    db_done(&want);
}

/* Redis: each gets -ERR Protocol error: invalid bulk length, then closes. */
static void test_invalid_bulk_length(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "*1\r\n$-1\r\n",
        "*1\r\n$\r\n",
        "*1\r\n$01\r\na\r\n",
        "*1\r\n$-0\r\n",
        "*1\r\n$x\r\n",
        "*1\r\n$1 \r\n",
        "*1\r\n$+1\r\n",
        "*1\r\n$9223372036854775808\r\n",
        "*1\r\n$536870913\r\n", /* proto-max-bulk-len 512mb, plus one */
        "*2\r\n$3\r\nGET\r\n$-5\r\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_error(&lim_default, cases[i], "Protocol error: invalid bulk length");
    }
    size_t consumed;
    const char at_max[] = "*1\r\n$536870912\r\n";
    assert_int_equal(parse_once(&lim_default, at_max, sizeof(at_max) - 1, &consumed),
                     RESP_INCOMPLETE);
    /* NULL limits are Redis's defaults. */
    assert_int_equal(parse_once(NULL, at_max, sizeof(at_max) - 1, &consumed), RESP_INCOMPLETE);
    expect_error(NULL, "*1\r\n$536870913\r\n", "Protocol error: invalid bulk length");
}

/* Redis (proto-max-bulk-len 1mb): $1048576 waits, $1048577 fails. */
static void test_max_bulk_len_boundary(void **state)
{
    (void)state;
    const struct resp_limits mb = {1024 * 1024, true};
    size_t consumed;
    const char at[] = "*1\r\n$1048576\r\n";
    assert_int_equal(parse_once(&mb, at, sizeof(at) - 1, &consumed), RESP_INCOMPLETE);
    expect_error(&mb, "*1\r\n$1048577\r\n", "Protocol error: invalid bulk length");

    const struct resp_limits small = {16, true};
    const struct slice ok[] = {SLICE_LIT("0123456789abcdef")};
    expect_frame(&small, "*1\r\n$16\r\n0123456789abcdef\r\n", 1, ok);
    expect_error(&small, "*1\r\n$17\r\n0123456789abcdefg\r\n",
                 "Protocol error: invalid bulk length");

    /* The largest configurable limit: no overflow in len + 2. */
    const struct resp_limits huge = {LLONG_MAX, true};
    const char top[] = "*1\r\n$9223372036854775807\r\nabc";
    assert_int_equal(parse_once(&huge, top, sizeof(top) - 1, &consumed), RESP_INCOMPLETE);

    /* A large payload arriving a byte at a time. */
    struct dbuf in = {0};
    db_str(&in, "*1\r\n$1048576\r\n");
    db_fill(&in, 'v', 1024 * 1024);
    db_str(&in, "\r\n");
    struct slice big = {in.p + 14, 1024 * 1024};
    expect_frame_n(&mb, in.p, in.len, 1, &big);
    db_done(&in);
}

/* Redis: 65536 bytes of '$' line then "\r\n" -> invalid bulk length; 65537
 * bytes without '\r' -> too big bulk count string, whatever the first byte. */
static void test_bulk_count_too_big(void **state)
{
    (void)state;
    struct dbuf in = {0};
    db_str(&in, "*2\r\n$4\r\nECHO\r\n$");
    db_fill(&in, '1', K64 - 1);
    db_str(&in, "\r\n");
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: invalid bulk length");
    db_done(&in);

    db_str(&in, "*2\r\n$4\r\nECHO\r\n$");
    db_fill(&in, '1', K64);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big bulk count string");
    db_done(&in);

    db_str(&in, "*1\r\nX");
    db_fill(&in, '1', K64);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big bulk count string");
    db_done(&in);
}

/* Redis with requirepass, before AUTH: *10 waits, *11 fails; the validity
 * check comes first (*2147483648 -> invalid multibulk length); $16384 waits,
 * $16385 fails; with proto-max-bulk-len 1mb, $1048577 -> invalid bulk length. */
static void test_unauthenticated_limits(void **state)
{
    (void)state;
    const struct resp_limits unauth = {1024 * 1024, false};
    size_t consumed;

    struct dbuf in = {0};
    struct slice ten[10];
    for (int i = 0; i < 10; i++) {
        ten[i] = (struct slice){"x", 1};
    }
    encode_frame(&in, 10, ten);
    expect_frame_n(&unauth, in.p, in.len, 10, ten);
    db_done(&in);
    expect_error(&unauth, "*11\r\n", "Protocol error: unauthenticated multibulk length");
    expect_error(&unauth, "*2147483647\r\n", "Protocol error: unauthenticated multibulk length");
    expect_error(&unauth, "*2147483648\r\n", "Protocol error: invalid multibulk length");
    expect_frame(&unauth, "*0\r\n", 0, NULL);
    expect_frame(&unauth, "*-1\r\n", 0, NULL);

    db_str(&in, "*1\r\n$16384\r\n");
    db_fill(&in, 'b', 16384);
    db_str(&in, "\r\n");
    struct slice b = {in.p + 12, 16384};
    expect_frame_n(&unauth, in.p, in.len, 1, &b);
    db_done(&in);
    expect_error(&unauth, "*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length");
    expect_error(&unauth, "*1\r\n$1048577\r\n", "Protocol error: invalid bulk length");
    expect_error(&unauth, "*1\r\n$-1\r\n", "Protocol error: invalid bulk length");

    /* Inline requests have no argument caps. */
    db_str(&in, "echo");
    for (int i = 0; i < 20; i++) {
        db_str(&in, " a");
    }
    db_str(&in, "\r\n");
    assert_int_equal(parse_once(&unauth, in.p, in.len, &consumed), RESP_OK);
    db_done(&in);
}

/* The limits are read live: AUTH succeeding between frames lifts the caps
 * for the next count line, as Redis checks authRequired() per line. */
static void test_limits_read_live(void **state)
{
    (void)state;
    struct resp_limits lim = {1024 * 1024, false};
    struct resp_parser p;
    resp_parser_init(&p, &lim);
    const char big[] = "*11\r\n";
    size_t consumed;
    assert_int_equal(resp_parse(&p, big, sizeof(big) - 1, &consumed), RESP_ERR);
    assert_string_equal(p.error, "Protocol error: unauthenticated multibulk length");

    lim.authenticated = true;
    assert_int_equal(resp_parse(&p, big, sizeof(big) - 1, &consumed), RESP_INCOMPLETE);
    resp_parser_reset(&p);

    /* A count line accepted while authenticated stays accepted. */
    const char bulk[] = "*1\r\n$20000\r\n";
    assert_int_equal(resp_parse(&p, bulk, sizeof(bulk) - 1, &consumed), RESP_INCOMPLETE);
    lim.authenticated = false;
    assert_int_equal(resp_parse(&p, bulk, sizeof(bulk) - 1, &consumed), RESP_INCOMPLETE);
    resp_parser_deinit(&p);
}

/* ---- Parser state ---- */

static void test_reset_forgets_partial_frame(void **state)
{
    (void)state;
    struct resp_parser p;
    resp_parser_init(&p, &lim_default);
    size_t consumed;
    const char part[] = "*3\r\n$3\r\nSET\r\n$1\r\nk";
    assert_int_equal(resp_parse(&p, part, sizeof(part) - 1, &consumed), RESP_INCOMPLETE);
    resp_parser_reset(&p);
    const char other[] = "*1\r\n$4\r\nPING\r\n";
    assert_int_equal(resp_parse(&p, other, sizeof(other) - 1, &consumed), RESP_OK);
    assert_int_equal(p.argc, 1);
    assert_memory_equal(p.argv[0].ptr, "PING", 4);

    /* Partial inline, reset, then multibulk. */
    assert_int_equal(resp_parse(&p, "get", 3, &consumed), RESP_INCOMPLETE);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, other, sizeof(other) - 1, &consumed), RESP_OK);
    assert_int_equal(consumed, sizeof(other) - 1);
    resp_parser_deinit(&p);
}

/* A caller that (wrongly) passes fewer bytes than before gets a fresh parse
 * of what it passed, never a read past its buffer. */
static void test_shorter_buffer_restarts(void **state)
{
    (void)state;
    struct resp_parser p;
    resp_parser_init(&p, &lim_default);
    size_t consumed;
    const char f[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    assert_int_equal(resp_parse(&p, f, 16, &consumed), RESP_INCOMPLETE);
    assert_int_equal(resp_parse(&p, f, 3, &consumed), RESP_INCOMPLETE);
    assert_int_equal(resp_parse(&p, f, sizeof(f) - 1, &consumed), RESP_OK);
    assert_int_equal(p.argc, 2);
    assert_memory_equal(p.argv[1].ptr, "k", 1);
    resp_parser_deinit(&p);
}

/* Arrays grow with the arguments, are reused, and a very wide frame does not
 * pin its memory afterwards. */
static void test_wide_frame_then_small(void **state)
{
    (void)state;
    struct dbuf in = {0};
    const int n = 100000;
    char hdr[RESP_HDR_MAX];
    db_put(&in, hdr, resp_encode_header(hdr, '*', n));
    for (int i = 0; i < n; i++) {
        db_str(&in, i % 2 ? "$1\r\na\r\n" : "$2\r\nbc\r\n");
    }
    size_t wide_len = in.len;
    db_str(&in, "*1\r\n$4\r\nPING\r\n");

    struct resp_parser p;
    resp_parser_init(&p, &lim_default);
    size_t consumed;
    assert_int_equal(resp_parse(&p, in.p, in.len, &consumed), RESP_OK);
    assert_int_equal(consumed, wide_len);
    assert_int_equal(p.argc, n);
    assert_memory_equal(p.argv[n - 1].ptr, "a", 1);
    assert_memory_equal(p.argv[n - 2].ptr, "bc", 2);

    assert_int_equal(resp_parse(&p, in.p + wide_len, in.len - wide_len, &consumed), RESP_OK);
    assert_int_equal(p.argc, 1);
    assert_true(p.argv_cap <= 1024);
    int cap = p.argv_cap;
    assert_int_equal(resp_parse(&p, in.p + wide_len, in.len - wide_len, &consumed), RESP_OK);
    assert_int_equal(p.argv_cap, cap); /* reused, not reallocated */
    resp_parser_deinit(&p);
    db_done(&in);
}

/* Lines trickling in byte by byte are searched once, not from their start on
 * every call (the 64KB line below would take ~2e9 steps otherwise). */
static void test_trickle_long_lines(void **state)
{
    (void)state;
    struct dbuf in = {0};
    db_fill(&in, 'a', K64);
    db_str(&in, "\n");
    struct slice line = {in.p, K64};
    expect_frame_n(&lim_default, in.p, in.len, 1, &line);
    db_done(&in);

    db_str(&in, "*1\r\n$");
    db_fill(&in, '1', K64);
    expect_error_n(&lim_default, in.p, in.len, "Protocol error: too big bulk count string");
    db_done(&in);
}

/* ---- Fuzz ---- */

/* Appends one random valid frame to `in` and its arguments to `want`. */
static void random_frame(struct dbuf *in, struct dbuf *want)
{
    static char bytes[4096];
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct slice argv[64];
    size_t used = 0;
    size_t kind = test_below(100);

    if (kind < 70) { /* multibulk, binary arguments */
        int argc = 1 + (int)test_below(test_below(10) == 0 ? 64 : 6);
        for (int i = 0; i < argc; i++) {
            size_t len = test_below(test_below(10) == 0 ? 300 : 20);
            if (used + len > sizeof(bytes)) len = 0;
            for (size_t j = 0; j < len; j++) {
                bytes[used + j] = (char)test_rand();
            }
            argv[i] = (struct slice){bytes + used, len};
            used += len;
        }
        size_t start = in->len;
        encode_frame(in, argc, argv);
        if (test_below(8) == 0) {
            /* Redis's unchecked bytes: replace every '\n' after a header's
             * '\r' and the two bytes after each payload with noise. */
            size_t pos = start;
            for (int i = -1; i < argc; i++) {
                while (in->p[pos] != '\r') {
                    pos++;
                }
                in->p[pos + 1] = (char)test_rand();
                pos += 2;
                if (i >= 0) {
                    in->p[pos + argv[i].len] = (char)test_rand();
                    in->p[pos + argv[i].len + 1] = (char)test_rand();
                    pos += argv[i].len + 2;
                }
            }
        }
        record_frame(want, argc, argv);
    } else if (kind < 80) { /* empty multibulk */
        static const char *const empties[] = {"*0\r\n", "*-1\r\n", "*-42\r\n"};
        db_str(in, empties[test_below(3)]);
        record_frame(want, 0, NULL);
    } else if (kind < 95) { /* inline words */
        int argc = 1 + (int)test_below(5);
        if (test_below(2)) db_str(in, " ");
        for (int i = 0; i < argc; i++) {
            size_t len = 1 + test_below(8);
            for (size_t j = 0; j < len; j++) {
                bytes[used + j] = alnum[test_below(sizeof(alnum) - 1)];
            }
            argv[i] = (struct slice){bytes + used, len};
            db_put(in, bytes + used, len);
            used += len;
            db_str(in, test_below(4) ? " " : "\t ");
        }
        db_str(in, test_below(2) ? "\r\n" : "\n");
        record_frame(want, argc, argv);
    } else { /* blank line */
        db_str(in, test_below(2) ? "\r\n" : " \n");
        record_frame(want, 0, NULL);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void test_fuzz_random_splits(void **state)
{
    (void)state;
    test_rng_state = 20240601;
    for (int iter = 0; iter < 20000; iter++) {
        struct dbuf in = {0}, want = {0}, got = {0};
        int frames = 1 + (int)test_below(8);
        for (int f = 0; f < frames; f++) {
            random_frame(&in, &want);
        }

        size_t cuts[16];
        int ncuts = (int)test_below(17);
        for (int c = 0; c < ncuts; c++) {
            cuts[c] = test_below(in.len + 1);
        }
        qsort(cuts, (size_t)ncuts, sizeof(cuts[0]), cmp_size);
        int mode = (int)test_below(3);

        size_t left = feed(&lim_default, mode, in.p, in.len, cuts, ncuts, &got);
        if (left != 0 || got.len != want.len || memcmp(got.p, want.p, got.len) != 0) {
            print_error("fuzz iteration %d failed (mode %d, %d cuts)\n", iter, mode, ncuts);
        }
        assert_int_equal(left, 0);
        assert_bytes_equal(&got, &want);
        db_done(&in);
        db_done(&want);
        db_done(&got);
    }
}

/* ---- The fast path (resp_parse_plain) ---- */

#define PLAIN_MAX 16

/* `key` is the frame's second argument, NULL when it has fewer than two. */
static void expect_plain_lim(const struct resp_limits *lim, const char *in, size_t frame, int argc,
                             const char *key)
{
    struct slice argv[PLAIN_MAX];
    int got_argc = -1;
    size_t got = resp_parse_plain(lim, in, strlen(in), argv, PLAIN_MAX, &got_argc);
    assert_int_equal(got, frame);
    if (frame == 0) return;
    assert_int_equal(got_argc, argc);
    if (key != NULL) {
        assert_true(argc >= 2);
        assert_int_equal(argv[1].len, strlen(key));
        assert_memory_equal(argv[1].ptr, key, argv[1].len);
    }
}

static void expect_plain(const char *in, size_t frame, int argc, const char *key)
{
    expect_plain_lim(NULL, in, frame, argc, key);
}

static void test_plain_examples(void **state)
{
    (void)state;
    expect_plain("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", 22, 2, "foo");
    expect_plain("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n", 22, 2, "foo");
    expect_plain("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nv\r\n", 26, 3, "");
    expect_plain("*1\r\n$4\r\nPING\r\n", 14, 1, NULL);
    expect_plain("*0\r\n", 4, 0, NULL);
    /* Redis's quirks: the byte after a count's \r and the two after a
     * payload are not checked. */
    expect_plain("*1\rx$4\r\nPINGxy", 14, 1, NULL);
    /* Incomplete at every stage: no answer, resp_parse() will wait. */
    expect_plain("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r", 0, 0, NULL);
    expect_plain("*2\r\n$3\r\nGET\r\n$3\r\nfo", 0, 0, NULL);
    expect_plain("*2\r\n$3\r\nGET\r\n", 0, 0, NULL);
    expect_plain("*2\r\n", 0, 0, NULL);
    expect_plain("*2", 0, 0, NULL);
    expect_plain("", 0, 0, NULL);
    /* Inline requests, odd or invalid counts: left to resp_parse(). */
    expect_plain("GET foo\r\n", 0, 0, NULL);
    expect_plain("*-1\r\n", 0, 0, NULL);
    expect_plain("*02\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", 0, 0, NULL);
    expect_plain("*2\r\n$-1\r\n$3\r\nfoo\r\n", 0, 0, NULL);
    expect_plain("*2\r\n:3\r\nGET\r\n$3\r\nfoo\r\n", 0, 0, NULL);
    expect_plain("*2\r\n$99999999999999999999\r\nGET\r\n", 0, 0, NULL);
    expect_plain("*17\r\n$3\r\nGET\r\n", 0, 0, NULL); /* wider than argv */
}

/* Over a limit the fast path declines, so resp_parse() gives the error. */
static void test_plain_limits(void **state)
{
    (void)state;
    const char *eleven = "*11\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
                         "$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n";
    struct resp_limits unauth = {512LL * 1024 * 1024, false};
    expect_plain_lim(NULL, eleven, strlen(eleven), 11, "a");
    expect_plain_lim(&unauth, eleven, 0, 0, NULL);
    struct resp_limits small = {3, true};
    expect_plain_lim(&small, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", 22, 2, "foo");
    expect_plain_lim(&small, "*2\r\n$3\r\nGET\r\n$4\r\nfoo1\r\n", 0, 0, NULL);
    struct dbuf big = {0};
    db_str(&big, "*2\r\n$3\r\nSET\r\n$16385\r\n");
    db_fill(&big, 'k', 16385);
    db_str(&big, "\r\n");
    struct slice argv[PLAIN_MAX];
    int argc;
    assert_int_equal(resp_parse_plain(&unauth, big.p, big.len, argv, PLAIN_MAX, &argc), 0);
    assert_int_equal(resp_parse_plain(NULL, big.p, big.len, argv, PLAIN_MAX, &argc), big.len);
    db_done(&big);
}

/* Wherever the fast path answers, it agrees with the parser: the same
 * frame length and the same arguments, at the same addresses. */
static void test_plain_agrees_with_parser(void **state)
{
    (void)state;
    test_rng_state = 20261125;
    int answered = 0;
    for (int iter = 0; iter < 20000; iter++) {
        struct dbuf in = {0}, want = {0};
        random_frame(&in, &want);
        random_frame(&in, &want); /* a following frame must not matter */
        size_t cut = test_below(in.len + 1);
        struct slice argv[PLAIN_MAX];
        int argc = -1;
        size_t frame = resp_parse_plain(&lim_default, in.p, cut, argv, PLAIN_MAX, &argc);
        if (frame != 0) {
            answered++;
            struct resp_parser p;
            resp_parser_init(&p, &lim_default);
            size_t consumed = 0;
            assert_int_equal(resp_parse(&p, in.p, cut, &consumed), RESP_OK);
            assert_int_equal(consumed, frame);
            assert_int_equal(p.argc, argc);
            for (int i = 0; i < argc; i++) {
                assert_ptr_equal(argv[i].ptr, p.argv[i].ptr);
                assert_int_equal(argv[i].len, p.argv[i].len);
            }
            resp_parser_deinit(&p);
        }
        db_done(&in);
        db_done(&want);
    }
    assert_true(answered > 1000); /* the property was exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_header),
        cmocka_unit_test(test_plain_examples),
        cmocka_unit_test(test_plain_limits),
        cmocka_unit_test(test_plain_agrees_with_parser),
        cmocka_unit_test(test_encode_header_round_trip),
        cmocka_unit_test(test_multibulk_simple),
        cmocka_unit_test(test_every_prefix_incomplete),
        cmocka_unit_test(test_empty_frames),
        cmocka_unit_test(test_pipeline_many_frames),
        cmocka_unit_test(test_split_anywhere),
        cmocka_unit_test(test_split_two_cuts),
        cmocka_unit_test(test_binary_payloads),
        cmocka_unit_test(test_crlf_not_checked),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_inline_args_owned_by_parser),
        cmocka_unit_test(test_inline_unbalanced_quotes),
        cmocka_unit_test(test_inline_too_big),
        cmocka_unit_test(test_nul_hides_line_end),
        cmocka_unit_test(test_invalid_multibulk_length),
        cmocka_unit_test(test_multibulk_count_boundaries),
        cmocka_unit_test(test_multibulk_count_too_big),
        cmocka_unit_test(test_expected_dollar),
        cmocka_unit_test(test_invalid_bulk_length),
        cmocka_unit_test(test_max_bulk_len_boundary),
        cmocka_unit_test(test_bulk_count_too_big),
        cmocka_unit_test(test_unauthenticated_limits),
        cmocka_unit_test(test_limits_read_live),
        cmocka_unit_test(test_reset_forgets_partial_frame),
        cmocka_unit_test(test_shorter_buffer_restarts),
        cmocka_unit_test(test_wide_frame_then_small),
        cmocka_unit_test(test_trickle_long_lines),
        cmocka_unit_test(test_fuzz_random_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
