/* test_aof.c: the AOF loader's command parser.
 *
 * What the loader needs from it: a whole command parses to its arguments
 * (binary-safe); every proper prefix of a valid stream is "incomplete" (0),
 * which the loader treats as a cut-off tail (aof-load-truncated); bytes that
 * are not a command are "bad format" (-1) as soon as they are seen, as Redis
 * reports them, even without a newline. A seeded fuzz loop checks that
 * random damage never reads outside the buffer (the Asan build) and that a
 * reported length always stays inside it. */
#include "ember/aof.h"
#include "ember/mem.h"
#include "ember/util.h"

#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h and stddef.h first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct parsed {
    struct slice *argv;
    int cap, argc;
};

static long long parse(struct parsed *ps, const char *p, size_t len)
{
    return aof_parse_command(p, len, &ps->argv, &ps->cap, &ps->argc);
}

static void test_parses_a_command(void **state)
{
    (void)state;
    static const char cmd[] = "*3\r\n$3\r\nSET\r\n$3\r\nk\0y\r\n$0\r\n\r\n";
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, cmd, sizeof(cmd) - 1), (long long)sizeof(cmd) - 1);
    assert_int_equal(ps.argc, 3);
    assert_int_equal(ps.argv[0].len, 3);
    assert_memory_equal(ps.argv[0].ptr, "SET", 3);
    assert_int_equal(ps.argv[1].len, 3);
    assert_memory_equal(ps.argv[1].ptr, "k\0y", 3);
    assert_int_equal(ps.argv[2].len, 0);
    em_free(ps.argv);
}

static void test_every_prefix_is_incomplete(void **state)
{
    (void)state;
    static const char cmd[] = "*2\r\n$6\r\nSELECT\r\n$2\r\n10\r\n";
    struct parsed ps = {0};
    for (size_t n = 0; n < sizeof(cmd) - 1; n++) {
        assert_int_equal(parse(&ps, cmd, n), 0);
    }
    assert_int_equal(parse(&ps, cmd, sizeof(cmd) - 1), (long long)sizeof(cmd) - 1);
    em_free(ps.argv);
}

static void test_bad_format(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "hello\r\n",          /* not "*N" */
        "x",                  /* not "*N", even without a newline */
        "*0\r\n",             /* no arguments */
        "*-1\r\n",            /* negative count */
        "*1\n$1\r\nx\r\n",    /* bare \n */
        "*1\r\n:1\r\n",       /* not a bulk */
        "*1\r\n:",            /* ... seen before the newline */
        "*1\r\n$-1\r\n",      /* null bulk */
        "*1\r\n$1\r\nxy\r\n", /* wrong length */
        "*x\r\n",             /* not a number */
    };
    struct parsed ps = {0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&ps, bad[i], strlen(bad[i])), -1);
    }
    em_free(ps.argv);
}

static void test_several_commands_back_to_back(void **state)
{
    (void)state;
    static const char s[] =
        "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n";
    struct parsed ps = {0};
    size_t off = 0;
    int count = 0;
    while (off < sizeof(s) - 1) {
        long long n = parse(&ps, s + off, sizeof(s) - 1 - off);
        assert_true(n > 0);
        off += (size_t)n;
        count++;
    }
    assert_int_equal(count, 3);
    assert_int_equal(ps.argc, 1);
    assert_memory_equal(ps.argv[0].ptr, "EXEC", 4);
    em_free(ps.argv);
}

/* Random damage to a valid stream: the parser answers -1, 0 or a length
 * inside the buffer, and never reads past it (each case gets its own
 * exact-size allocation, so the Asan build catches an overread). */
static void test_fuzz_damage(void **state)
{
    (void)state;
    static const char good[] = "*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$12\r\n123456789012\r\n"
                               "*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\nm\r\n";
    struct rng r;
    rng_seed(&r, 42);
    struct parsed ps = {0};
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)rng_below(&r, sizeof(good));
        char *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, good, len);
        int flips = (int)rng_below(&r, 3);
        for (int k = 0; k < flips && len > 0; k++) {
            p[rng_below(&r, len)] = (char)rng_below(&r, 256);
        }
        long long n = parse(&ps, p, len);
        assert_true(n >= -1 && n <= (long long)len);
        if (n > 0) {
            for (int a = 0; a < ps.argc; a++) {
                assert_true(ps.argv[a].ptr >= p && ps.argv[a].ptr + ps.argv[a].len <= p + len);
            }
        }
        free(p);
    }
    em_free(ps.argv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_a_command),
        cmocka_unit_test(test_every_prefix_is_incomplete),
        cmocka_unit_test(test_bad_format),
        cmocka_unit_test(test_several_commands_back_to_back),
        cmocka_unit_test(test_fuzz_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
