/* test_util.c: unit tests for util.c.
 *
 * Expected number texts and glob results were checked against redis-server
 * 7.0.15 (ZADD + ZSCORE for d_to_str, INCRBYFLOAT for ld_to_str, INCRBY for
 * str_to_ll, CONFIG SET maxmemory for mem_to_ll, KEYS and COMMAND LIST
 * FILTERBY PATTERN for glob_match, inline commands for split_args). Hash and
 * RNG known answers come from independent reference implementations. */
#include "ember/util.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h> /* stdarg, stddef and setjmp must precede cmocka.h */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* ---- Helpers ---- */

static bool ll_of(const char *s, long long *out)
{
    return str_to_ll(s, strlen(s), out);
}

static bool ull_of(const char *s, unsigned long long *out)
{
    return str_to_ull(s, strlen(s), out);
}

static bool d_of(const char *s, double *out)
{
    return str_to_d(s, strlen(s), out);
}

static bool ld_of(const char *s, long double *out)
{
    return str_to_ld(s, strlen(s), out);
}

static bool glob(const char *pat, const char *s)
{
    return glob_match(pat, strlen(pat), s, strlen(s), false);
}

static bool glob_nocase(const char *pat, const char *s)
{
    return glob_match(pat, strlen(pat), s, strlen(s), true);
}

/* Repeats `unit` n times into a heap string. */
static char *repeat(const char *unit, size_t n)
{
    size_t ulen = strlen(unit);
    char *s = malloc(ulen * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * ulen, unit, ulen);
    }
    s[ulen * n] = '\0';
    return s;
}

/* The system clock read directly (time() may lag: glibc reads a coarse
 * clock for it). */
static long long real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- Clock (first: clock_ms() must work before any clock_update()) ---- */

static void test_clock_ms_before_first_update_is_real_time(void **state)
{
    (void)state;
    long long before = real_ms();
    long long now = clock_ms();
    long long after = real_ms();
    assert_true(now >= before && now <= after);
    assert_int_equal(clock_us() / 1000, clock_ms());
}

static void test_clock_is_cached_until_update(void **state)
{
    (void)state;
    clock_update();
    long long us = clock_us();
    sleep_ms(3);
    assert_int_equal(clock_us(), us);
    clock_update();
    assert_true(clock_us() >= us + 3000);
    assert_int_equal(clock_ms(), clock_us() / 1000);
}

static void test_clock_freeze_and_unfreeze(void **state)
{
    (void)state;
    clock_freeze(12345);
    assert_int_equal(clock_ms(), 12345);
    assert_int_equal(clock_us(), 12345000);
    clock_update(); /* a no-op while frozen */
    assert_int_equal(clock_ms(), 12345);

    long long before = real_ms();
    clock_unfreeze();
    long long after = real_ms();
    assert_true(clock_ms() >= before && clock_ms() <= after);
}

static void test_clock_mono_advances(void **state)
{
    (void)state;
    long long a = clock_mono_us();
    sleep_ms(2);
    long long b = clock_mono_us();
    assert_true(b >= a + 2000);
}

/* ---- Integers ---- */

static void test_str_to_ll_accepts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long long value;
    } cases[] = {
        {"0", 0},
        {"1", 1},
        {"-1", -1},
        {"99", 99},
        {"-99", -99},
        {"10", 10},
        {"9223372036854775807", LLONG_MAX},
        {"-9223372036854775808", LLONG_MIN},
        {"-9223372036854775807", -LLONG_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long v = 42;
        assert_true(ll_of(cases[i].text, &v));
        assert_true(v == cases[i].value);
    }
    assert_true(ll_of("123", NULL)); /* validation only */
}

static void test_str_to_ll_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "-0",
        "+1",
        " 1",
        "1 ",
        "01",
        "00",
        "-01",
        "1a",
        "a",
        "0x10",
        "1.0",
        "1e3",
        "9223372036854775808",            /* LLONG_MAX + 1 */
        "-9223372036854775809",           /* LLONG_MIN - 1 */
        "18446744073709551616",           /* 2^64 */
        "99999999999999999999",           /* wraps an unsigned accumulator */
        "000000000000000000001",          /* 21 bytes */
        "-18446744073709551615",          /* fits unsigned, not signed */
        "123456789012345678901234567890", /* far too long */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v = 42;
        assert_false(ll_of(bad[i], &v));
        assert_true(v == 42); /* untouched on failure */
    }
    /* A NUL inside the slice is a trailing byte, not an end. */
    assert_false(str_to_ll("1\0", 2, NULL));
}

static void test_str_to_ll_reads_only_len_bytes(void **state)
{
    (void)state;
    long long v;
    assert_true(str_to_ll("12345", 2, &v));
    assert_int_equal(v, 12);
    assert_false(str_to_ll("12345", 0, &v));
}

static void test_str_to_ull(void **state)
{
    (void)state;
    unsigned long long v;
    assert_true(ull_of("0", &v));
    assert_true(v == 0);
    assert_true(ull_of("18446744073709551615", &v));
    assert_true(v == ULLONG_MAX);
    assert_true(ull_of("9223372036854775808", &v));
    assert_true(v == 9223372036854775808ULL);

    static const char *const bad[] = {
        "",
        "-1",
        "-0",
        "+1",
        " 1",
        "1 ",
        "01",
        "00",
        "1a",
        "18446744073709551616",
        "99999999999999999999",
        "000000000000000000001",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(ull_of(bad[i], &v));
    }
}

static void test_ll_to_str(void **state)
{
    (void)state;
    char buf[UTIL_LL_STR_SIZE];
    assert_int_equal(ll_to_str(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(ll_to_str(buf, sizeof(buf), -1), 2);
    assert_string_equal(buf, "-1");
    assert_int_equal(ll_to_str(buf, sizeof(buf), LLONG_MAX), 19);
    assert_string_equal(buf, "9223372036854775807");
    assert_int_equal(ll_to_str(buf, sizeof(buf), LLONG_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");

    assert_int_equal(ull_to_str(buf, sizeof(buf), ULLONG_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    assert_int_equal(ull_to_str(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");

    /* Too small: 0 and an empty string, never a truncated number. */
    char small[3];
    assert_int_equal(ll_to_str(small, sizeof(small), 123), 0);
    assert_string_equal(small, "");
    assert_int_equal(ll_to_str(small, sizeof(small), -12), 0);
    assert_string_equal(small, "");
    assert_int_equal(ll_to_str(small, sizeof(small), -1), 2);
    assert_string_equal(small, "-1");
    assert_int_equal(ull_to_str(small, 1, 5), 0);
    assert_string_equal(small, "");
}

static void test_ll_round_trip(void **state)
{
    (void)state;
    const long long values[] = {
        0, 1, -1, 9, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[UTIL_LL_STR_SIZE];
        int n = ll_to_str(buf, sizeof(buf), values[i]);
        long long back;
        assert_true(str_to_ll(buf, (size_t)n, &back));
        assert_true(back == values[i]);
    }
}

/* ---- Doubles ---- */

static void test_str_to_d_accepts(void **state)
{
    (void)state;
    double v;
    assert_true(d_of("1.1", &v));
    assert_true(v == 1.1);
    assert_true(d_of("+1", &v));
    assert_true(v == 1.0);
    assert_true(d_of("-0", &v));
    assert_true(v == 0 && signbit(v));
    assert_true(d_of(".5", &v));
    assert_true(v == 0.5);
    assert_true(d_of("5.", &v));
    assert_true(v == 5.0);
    assert_true(d_of("0x10", &v)); /* strtod's hex form, as in Redis */
    assert_true(v == 16.0);
    assert_true(d_of("inf", &v));
    assert_true(isinf(v) && v > 0);
    assert_true(d_of("+inf", &v));
    assert_true(isinf(v) && v > 0);
    assert_true(d_of("-inf", &v));
    assert_true(isinf(v) && v < 0);
    assert_true(d_of("-Infinity", &v));
    assert_true(isinf(v) && v < 0);
    /* Denormals set ERANGE but are not zero: Redis keeps them. */
    assert_true(d_of("4.9e-324", &v));
    assert_true(v > 0);
    assert_true(d_of("1e-310", &v));
    assert_true(d_of("1.7976931348623157e308", &v));
    assert_true(v == DBL_MAX);
    /* Longer than the internal stack buffer. */
    char *zeros = repeat("0", 300);
    zeros[299] = '7';
    assert_true(str_to_d(zeros, 300, &v));
    assert_true(v == 7.0);
    free(zeros);
    /* Only len bytes are read. */
    assert_true(str_to_d("12.5xyz", 4, &v));
    assert_true(v == 12.5);
}

static void test_str_to_d_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      " 1",     "\t1",    "\n1", "1 ",  "  ",    "nan", "NaN",       "-nan",
        "1e400", "-1e400", "1e-400", "1e",  "abc", "1.1.1", "--1", "0.1e-4950",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v = 42;
        assert_false(d_of(bad[i], &v));
        assert_true(v == 42);
    }
    assert_false(str_to_d("1\0", 2, NULL));
}

static void test_str_to_ld(void **state)
{
    (void)state;
    long double v;
    assert_true(ld_of("1.1", &v));
    assert_true(v == 1.1L);
    assert_true(ld_of("1e400", &v)); /* beyond double, within long double */
    assert_true(ld_of("1e-4940", &v));
    assert_true(ld_of("inf", &v));
    assert_true(ld_of("-0", &v));

    static const char *const bad[] = {
        "", " 1", "\t1", "1 ", "nan", "-nan", "1e5000", "-1e5000", "1e-5000", "0.1e-4950", "x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(ld_of(bad[i], &v));
    }

    /* Redis copies into a 5120-byte buffer: 5119 bytes is the longest. */
    char *longest = repeat("0", 5120);
    longest[5118] = '1';
    assert_true(str_to_ld(longest, 5119, &v));
    assert_true(v == 1.0L);
    longest[5118] = '0';
    longest[5119] = '1';
    assert_false(str_to_ld(longest, 5120, &v));
    free(longest);
}

static void check_d(double v, const char *expected)
{
    char buf[UTIL_D_STR_SIZE];
    int n = d_to_str(buf, sizeof(buf), v);
    assert_string_equal(buf, expected);
    assert_int_equal(n, (int)strlen(expected));
}

/* Expected texts are ZSCORE replies of redis-server 7.0.15 ("%.17g"). */
static void test_d_to_str(void **state)
{
    (void)state;
    check_d(1.1, "1.1000000000000001");
    check_d(0.1, "0.10000000000000001");
    check_d(-1.5, "-1.5");
    check_d(3.0, "3");
    check_d(1e16, "10000000000000000");
    check_d(1e17, "1e+17");
    check_d(1e20, "1e+20");
    check_d(4503599627370496.0, "4503599627370496");
    check_d(4503599627370495.5, "4503599627370495.5");
    check_d(-4503599627370495.0, "-4503599627370495");
    check_d(123456789012345678.0, "1.2345678901234568e+17");
    check_d(3.14159265358979323846, "3.1415926535897931");
    check_d(DBL_MAX, "1.7976931348623157e+308");
    check_d(4.9e-324, "4.9406564584124654e-324");
    check_d(1e-310, "9.9999999999999694e-311");
    check_d(1e-19, "9.9999999999999998e-20");
    check_d(0.0, "0");
    check_d(-0.0, "-0");
    check_d(INFINITY, "inf");
    check_d(-INFINITY, "-inf");
    check_d(NAN, "nan");

    char small[4];
    assert_int_equal(d_to_str(small, sizeof(small), 1.5), 3);
    assert_string_equal(small, "1.5");
    assert_int_equal(d_to_str(small, sizeof(small), 1.25), 0);
    assert_string_equal(small, "");
    assert_int_equal(d_to_str(small, sizeof(small), -INFINITY), 0);
}

/* INCRBYFLOAT: parse both operands as long doubles, add, print. */
static void check_incrbyfloat(const char *base, const char *incr, const char *expected)
{
    long double a, b;
    assert_true(ld_of(base, &a));
    assert_true(ld_of(incr, &b));
    char buf[UTIL_LD_STR_SIZE];
    int n = ld_to_str(buf, sizeof(buf), a + b);
    assert_string_equal(buf, expected);
    assert_int_equal(n, (int)strlen(expected));
}

/* Expected texts are INCRBYFLOAT replies of redis-server 7.0.15. */
static void test_ld_to_str(void **state)
{
    (void)state;
    check_incrbyfloat("0", "1.1", "1.1");
    check_incrbyfloat("0", "0.1", "0.1");
    check_incrbyfloat("0.1", "0.2", "0.3");
    check_incrbyfloat("10.5", "0.1", "10.6");
    check_incrbyfloat("5.0e3", "2.0e2", "5200");
    check_incrbyfloat("0", "3.0", "3");
    check_incrbyfloat("0", "5.", "5");
    check_incrbyfloat("3", "-3.0", "0");
    check_incrbyfloat("0", "-1.5", "-1.5");
    check_incrbyfloat("0", "1e17", "100000000000000000");
    check_incrbyfloat("0", "123456789012345678", "123456789012345678");
    check_incrbyfloat("0", "3.14159265358979323846", "3.14159265358979324");
    check_incrbyfloat("0", "1.23456789012345678901234567890", "1.23456789012345679");
    check_incrbyfloat("1", "0.00000000000000001", "1.00000000000000001");
    check_incrbyfloat("1", "0.000000000000000001", "1");
    check_incrbyfloat("0", "4.9e-324", "0");
    check_incrbyfloat("0", "-1e-20", "0"); /* "-0.000..." trims to "-0", printed "0" */
    check_incrbyfloat("0", "1e-4940", "0");
    check_incrbyfloat("0", "1e400",
                      "10000000000000000000281880683947586514586453433629052038625910693539685534"
                      "00862986203936399484832416052209405392731761620029582277725925573402382897"
                      "65933406610177974474345461739178624481166749717237789438243915933380474706"
                      "75026246684401359237513603830343735485505244955964979021825038280091068414"
                      "94740245689865304095101751265809261582758892018347251164331659136266413817"
                      "6309734806343732497430221946880");

    char buf[UTIL_LD_STR_SIZE];
    assert_int_equal(ld_to_str(buf, sizeof(buf), -0.0L), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(ld_to_str(buf, sizeof(buf), (long double)INFINITY), 3);
    assert_string_equal(buf, "inf");
    assert_int_equal(ld_to_str(buf, sizeof(buf), -(long double)INFINITY), 4);
    assert_string_equal(buf, "-inf");
    /* The widest value fits the documented size. */
    int n = ld_to_str(buf, sizeof(buf), -LDBL_MAX);
    assert_true(n > 4900 && n < UTIL_LD_STR_SIZE);
    assert_int_equal(n, (int)strlen(buf));
    /* Too small: 0 and an empty string. As in Redis, the untrimmed "%.17Lf"
     * text must fit, "1.50000000000000000" here. */
    char small[20];
    assert_int_equal(ld_to_str(small, sizeof(small), 1.5L), 3);
    assert_string_equal(small, "1.5");
    assert_int_equal(ld_to_str(small, sizeof(small), 12.5L), 0);
    assert_string_equal(small, "");
    assert_int_equal(ld_to_str(small, 4, -(long double)INFINITY), 0);
}

static void test_d_round_trip(void **state)
{
    (void)state;
    const double values[] = {
        1.1,      -2.5e-300, 6.02214076e23,      DBL_MIN,           DBL_MAX, -DBL_MAX,
        4.9e-324, 1.0 / 3,   4503599627370495.0, 9007199254740993.0};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[UTIL_D_STR_SIZE];
        int n = d_to_str(buf, sizeof(buf), values[i]);
        double back;
        assert_true(str_to_d(buf, (size_t)n, &back));
        assert_true(back == values[i]);
    }
}

/* ---- Memory sizes ---- */

static void test_mem_to_ll_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long long value;
    } cases[] = {
        {"0", 0},
        {"1", 1},
        {"1b", 1},
        {"1B", 1},
        {"1k", 1000},
        {"1K", 1000},
        {"1kb", 1024},
        {"1KB", 1024},
        {"1kB", 1024},
        {"1m", 1000000},
        {"1mb", 1048576},
        {"1g", 1000000000},
        {"1gb", 1073741824},
        {"1gB", 1073741824},
        {"100mb", 104857600},
        {"-5kb", -5120},
        {"-1", -1},
        {"", 0},   /* no digits reads as 0, as in Redis */
        {"kb", 0}, /* likewise */
        {"9223372036854775807", LLONG_MAX},
        {"8589934591gb", 8589934591LL * 1073741824LL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = false;
        long long v = mem_to_ll(cases[i].text, &ok);
        assert_true(ok);
        assert_true(v == cases[i].value);
    }
    assert_int_equal(mem_to_ll("2k", NULL), 2000);
}

static void test_mem_to_ll_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "-",
        "-kb",
        "1x",
        "1 kb",
        " 1",
        "1 ",
        "+1",
        "1.5",
        "1kbb",
        "1t",
        "1tb",
        "0x10",
        "9223372036854775808",
        "8589934592gb",
        "-9223372036854775809",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool ok = true;
        assert_int_equal(mem_to_ll(bad[i], &ok), 0);
        assert_false(ok);
    }
    char *huge = repeat("1", 200); /* more digits than Redis's buffer */
    bool ok = true;
    mem_to_ll(huge, &ok);
    assert_false(ok);
    free(huge);
}

/* ---- Glob ---- */

static void test_glob_basics(void **state)
{
    (void)state;
    static const struct {
        const char *pat, *s;
        bool match;
    } cases[] = {
        {"", "", true},
        {"a", "a", true},
        {"a", "b", false},
        {"a", "", false},
        {"", "a", false},
        {"h?llo", "hello", true},
        {"h?llo", "hllo", false},
        {"h*llo", "hllo", true},
        {"h*llo", "heeeello", true},
        {"h[ae]llo", "hallo", true},
        {"h[ae]llo", "hillo", false},
        {"h[^e]llo", "hallo", true},
        {"h[^e]llo", "hello", false},
        {"h[a-b]llo", "hbllo", true},
        {"h[a-b]llo", "hcllo", false},
        {"[z-a]", "b", true}, /* backwards range */
        {"[-]", "-", true},
        {"*", "abc", true},
        {"a*", "a", true},
        {"a*b*", "ab", true},
        {"a**", "a", true},
        {"*c", "abc", true},
        {"*c", "abd", false},
        {"\\*", "*", true},
        {"\\*", "a", false},
        {"\\?", "?", true},
        {"\\", "\\", true}, /* a trailing backslash is literal */
        {"a\\", "a", false},
        {"[\\a]", "a", true},
        {"[\\]", "]", true}, /* escaped ']' in an unterminated class */
        {"[\\", "\\", true},
        {"[a", "a", true}, /* unterminated class */
        {"a[", "a", false},
        {"[", "[", false},
        {"[]", "]", false},  /* an empty class matches nothing */
        {"[]]", "]", false}, /* ... and so does "[]" followed by ']' */
        {"[^]", "x", true},  /* an empty negated class matches any byte */
        {"[^", "x", true},
        {"[a-]", "]", true}, /* range from 'a' down to ']' */
        {"[a-]", "^", true},
        {"[a-]", "b", false},
        {"[^a]", "", false},
        /* Redis 7.0 matches an empty text only with an empty pattern (KEYS *
         * is special-cased elsewhere). */
        {"*", "", false},
        {"**", "", false},
        {"?*", "a", true},
        {"*?", "a", true},
        {"*?", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (glob(cases[i].pat, cases[i].s) != cases[i].match) {
            fail_msg("glob(\"%s\", \"%s\") should be %d", cases[i].pat, cases[i].s, cases[i].match);
        }
    }
}

static void test_glob_nocase(void **state)
{
    (void)state;
    assert_true(glob_nocase("GET", "get"));
    assert_false(glob("GET", "get"));
    assert_true(glob_nocase("g?T", "GeT"));
    assert_true(glob_nocase("[A-C]", "b"));
    assert_true(glob_nocase("[a-c]", "B"));
    assert_true(glob_nocase("[G]", "g"));
    assert_true(glob_nocase("[^G]", "h"));
    assert_false(glob_nocase("[^G]", "g"));
    assert_false(glob_nocase("[\\A]", "a")); /* an escape inside a class is exact */
    assert_true(glob_nocase("\\A", "a"));    /* outside a class it folds */
    assert_false(glob_nocase("@", "`"));     /* only A-Z fold */
}

/* Bytes >= 0x80 compare as signed char, as in Redis built where char is
 * signed (x86): "[a-\xff]" is the range from -1 to 'a'. */
static void test_glob_high_bytes(void **state)
{
    (void)state;
    assert_true(glob("[a-\xff]", "\xff"));
    assert_true(glob("[a-\xff]", "0"));
    assert_true(glob("[a-\xff]", "a"));
    assert_false(glob("[a-\xff]", "b"));
    assert_false(glob("[a-\xff]", "\x80"));
    assert_true(glob("[\xff-\x80]", "\x80"));
    assert_true(glob("[\x80-\xff]", "\xff"));
    assert_true(glob("?", "\xff"));
}

static void test_glob_binary_and_lengths(void **state)
{
    (void)state;
    /* Lengths, not NULs, delimit both sides. */
    assert_true(glob_match("a\0b", 3, "a\0b", 3, false));
    assert_false(glob_match("a\0b", 3, "a\0c", 3, false));
    assert_true(glob_match("a?b", 3, "a\0b", 3, false));
    assert_true(glob_match("a*XYZ", 2, "abc", 3, false));
    assert_false(glob_match("a*", 1, "ab", 2, false));
    assert_true(glob_match("[ab]", 4, "b!", 1, false));
    assert_true(glob_match("[a", 2, "a", 1, false)); /* the class runs to the length */
}

/* Without Redis's guards these take exponential time. */
static void test_glob_hostile_patterns_are_fast(void **state)
{
    (void)state;
    char *text = repeat("a", 10000);
    char *deep = repeat("*a", 40);
    const char *pats[] = {"*a*a*a*a*a*a*a*a*a*a*b", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*?b",
                          "a*a*a*a*a*a*a*a*a*a*a*a*c*", deep};
    long long start = clock_mono_us();
    for (size_t i = 0; i < 3; i++) {
        assert_false(glob(pats[i], text));
    }
    assert_true(glob(deep, text));
    assert_true(clock_mono_us() - start < 2000000); /* milliseconds in practice */
    free(deep);
    free(text);
}

/* Redis gives up 1000 '*' deep (CVE-2022-36021); checked with KEYS. */
static void test_glob_nesting_limit(void **state)
{
    (void)state;
    char *text = repeat("a", 1001);
    char *pat1000 = repeat("*a", 1000);
    char *pat1001 = repeat("*a", 1001);
    char *tail1001 = repeat("?*", 1001); /* the last '*' does not recurse */
    char *tail1002 = repeat("?*", 1002);
    assert_true(glob_match(pat1000, 2000, text, 1000, false));
    assert_false(glob_match(pat1001, 2002, text, 1001, false));
    assert_true(glob_match(tail1001, 2002, text, 1001, false));
    char *text1002 = repeat("a", 1002);
    assert_false(glob_match(tail1002, 2004, text1002, 1002, false));
    free(text1002);
    free(tail1002);
    free(tail1001);
    free(pat1001);
    free(pat1000);
    free(text);
}

/* ---- split_args ---- */

/* Splits `line` and checks the result against `expected` (NULL-terminated),
 * or expects an error when expected is NULL. */
static void check_split_n(const char *line, size_t len, const char *const *expected,
                          const size_t *expected_lens)
{
    char *dummy_argv[1];
    size_t dummy_lens[1];
    char **argv = dummy_argv; /* must be reset even on failure */
    size_t *lens = dummy_lens;
    int argc = split_args(line, len, &argv, &lens);
    if (expected == NULL) {
        assert_int_equal(argc, -1);
        assert_null(argv);
        assert_null(lens);
        return;
    }
    int want = 0;
    while (expected[want] != NULL)
        want++;
    assert_int_equal(argc, want);
    if (want == 0) {
        assert_null(argv);
        assert_null(lens);
    }
    for (int i = 0; i < argc; i++) {
        size_t elen = expected_lens != NULL ? expected_lens[i] : strlen(expected[i]);
        assert_int_equal(lens[i], elen);
        assert_memory_equal(argv[i], expected[i], elen);
        assert_int_equal(argv[i][lens[i]], '\0');
    }
    split_args_free(argv, lens, argc);
}

static void check_split(const char *line, const char *const *expected)
{
    check_split_n(line, strlen(line), expected, NULL);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ARGS   ((const char *const[]){NULL})
#define SPLIT_ERR NULL

static void test_split_args_plain(void **state)
{
    (void)state;
    check_split("", NO_ARGS);
    check_split("   \t \r\n ", NO_ARGS);
    check_split("set key value", ARGS("set", "key", "value"));
    check_split("  set\t key  \r\n", ARGS("set", "key"));
    check_split("a\vb", ARGS("a\vb")); /* only space, \t, \r, \n end a bare word */
    check_split("\va", ARGS("a"));     /* but any isspace() byte is skipped first */
    check_split("\"\"", ARGS(""));
    check_split("'' x", ARGS("", "x"));
    check_split("a\"b c\"", ARGS("ab c")); /* a quote mid-word continues it */
    check_split("a'b c'", ARGS("ab c"));
    check_split_n("set key", 5, ARGS("set", "k"), NULL); /* only len bytes */
    check_split_n(NULL, 0, NO_ARGS, NULL);
}

static void test_split_args_double_quotes(void **state)
{
    (void)state;
    check_split("\"hello world\"", ARGS("hello world"));
    check_split("\"a\\nb\\rc\\td\\be\\af\"", ARGS("a\nb\rc\td\be\af"));
    check_split("\"q\\\"q\" \"b\\\\s\"", ARGS("q\"q", "b\\s"));
    check_split("\"\\x41\\x6a\\x6A\"", ARGS("Ajj"));
    check_split("\"\\x4g\"", ARGS("x4g")); /* not two hex digits: "\x" is 'x' */
    check_split("\"\\q\"", ARGS("q"));
    static const size_t binary_len[] = {2};
    check_split_n("\"\\x00\\xff\"", 10, ARGS("\0\xff"), binary_len);
    check_split("\"a\"\tb", ARGS("a", "b"));
    check_split("\"a\"\vb", ARGS("a", "b")); /* a closing quote may precede any isspace() */
    check_split("x \"y\"", ARGS("x", "y"));
}

static void test_split_args_single_quotes(void **state)
{
    (void)state;
    check_split("'hello world'", ARGS("hello world"));
    check_split("'a\\'b'", ARGS("a'b"));
    check_split("'a\\nb'", ARGS("a\\nb")); /* no other escapes */
    check_split("'\"'", ARGS("\""));
    check_split("\"'\"", ARGS("'"));
}

static void test_split_args_errors(void **state)
{
    (void)state;
    check_split("\"abc", SPLIT_ERR);
    check_split("'abc", SPLIT_ERR);
    check_split("\"", SPLIT_ERR);
    check_split("'", SPLIT_ERR);
    check_split("\"a\"b", SPLIT_ERR); /* closing quote not followed by space */
    check_split("'a'b", SPLIT_ERR);
    check_split("\"a\"'b'", SPLIT_ERR);
    check_split("ok \"\\\"", SPLIT_ERR); /* the escaped quote does not close */
    check_split("\"a\\", SPLIT_ERR);
    check_split("'a\\'", SPLIT_ERR);
    check_split("one two \"three", SPLIT_ERR); /* earlier arguments are freed */
}

/* Redis splits C strings, so a NUL ends the line. */
static void test_split_args_stops_at_nul(void **state)
{
    (void)state;
    check_split_n("a b\0c d", 7, ARGS("a", "b"), NULL);
    check_split_n("\"a\0b\"", 5, SPLIT_ERR, NULL);
}

static void test_split_args_long_argument(void **state)
{
    (void)state;
    char *big = repeat("x", 5000);
    char **argv;
    size_t *lens;
    assert_int_equal(split_args(big, 5000, &argv, &lens), 1);
    assert_int_equal(lens[0], 5000);
    assert_memory_equal(argv[0], big, 5000);
    split_args_free(argv, lens, 1);
    free(big);
    split_args_free(NULL, NULL, 0); /* a no-op */
}

static void test_slice_eq_nocase(void **state)
{
    (void)state;
    assert_true(slice_eq_nocase(SLICE_LIT("GET"), "get"));
    assert_true(slice_eq_nocase(SLICE_LIT("get"), "GET"));
    assert_true(slice_eq_nocase(SLICE_LIT(""), ""));
    assert_false(slice_eq_nocase(SLICE_LIT("ge"), "get"));
    assert_false(slice_eq_nocase(SLICE_LIT("gets"), "get"));
    assert_false(slice_eq_nocase(SLICE_LIT("g\0t"), "g"));
    assert_false(slice_eq_nocase(SLICE_LIT("@"), "`"));
    struct slice part = {"SETNX", 3};
    assert_true(slice_eq_nocase(part, "set"));
}

/* ---- Hashing ---- */

static const uint8_t ref_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* SipHash-1-2 of the bytes 00 01 02 ... under the key 00 01 ... 0f, from an
 * independent implementation of the SipHash paper (the same code reproduces
 * the paper's SipHash-2-4 vectors with 2 and 4 rounds). */
static void test_hash_known_answers(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        uint64_t hash;
    } vectors[] = {
        {0, 0xcea28b51565c12e2ULL},  {1, 0x94aaf38c34ce7ba6ULL},  {7, 0xf03c4cbcf492b05aULL},
        {8, 0x606845b4d093af74ULL},  {9, 0xe304e78271c74a56ULL},  {15, 0xec8f61bc1c8966a6ULL},
        {16, 0x1311f4dfe747a751ULL}, {63, 0xff6d07afacbad6d9ULL},
    };
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    hash_set_seed(ref_key);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        assert_true(hash_bytes(msg, vectors[i].len) == vectors[i].hash);
    }

    static const uint8_t zero_key[16] = {0};
    hash_set_seed(zero_key);
    assert_true(hash_bytes("get", 3) == 0xa07e6e38ab2acb98ULL);
}

static void test_hash_seed_and_input_sensitivity(void **state)
{
    (void)state;
    hash_set_seed(ref_key);
    uint64_t h1 = hash_bytes("key:1", 5);
    assert_true(hash_bytes("key:1", 5) == h1); /* deterministic */
    assert_true(hash_bytes("key:2", 5) != h1);
    assert_true(hash_bytes("key:1\0", 6) != h1); /* length is hashed */

    uint8_t other[16];
    memcpy(other, ref_key, sizeof(other));
    other[15] ^= 1;
    hash_set_seed(other);
    assert_true(hash_bytes("key:1", 5) != h1);
    hash_set_seed(ref_key);
    assert_true(hash_bytes("key:1", 5) == h1);
}

static void test_hash_nocase(void **state)
{
    (void)state;
    hash_set_seed(ref_key);
    assert_true(hash_bytes_nocase("GET", 3) == hash_bytes_nocase("get", 3));
    assert_true(hash_bytes_nocase("get", 3) == hash_bytes("get", 3));
    assert_true(hash_bytes("GET", 3) != hash_bytes("get", 3));
    /* Longer than one 8-byte block, letters in both parts. */
    const char *upper = "CLIENT-SETNAME-X";
    const char *lower = "client-setname-x";
    assert_true(hash_bytes_nocase(upper, 16) == hash_bytes(lower, 16));
    assert_true(hash_bytes_nocase("ZRANGEBYSCORE", 13) == hash_bytes("zrangebyscore", 13));
    /* Only A-Z fold. */
    assert_true(hash_bytes_nocase("@", 1) != hash_bytes_nocase("`", 1));
    assert_true(hash_bytes_nocase("\xC0", 1) != hash_bytes_nocase("\xE0", 1));
}

/* ---- Randomness ---- */

static void test_rng_known_answers(void **state)
{
    (void)state;
    /* splitmix64 from 1234567 (the sequence published with the algorithm's
     * Rosetta Code task) fills the state. */
    struct rng r;
    rng_seed(&r, 1234567);
    assert_true(r.s[0] == 6457827717110365317ULL);
    assert_true(r.s[1] == 3203168211198807973ULL);
    assert_true(r.s[2] == 9817491932198370423ULL);
    assert_true(r.s[3] == 4593380528125082431ULL);
    assert_true(rng_next(&r) == 0x30a3a1c363600467ULL);
    assert_true(rng_next(&r) == 0x19405f0f579929caULL);

    /* xoshiro256** from the state {1, 2, 3, 4}. */
    struct rng x = {{1, 2, 3, 4}};
    assert_true(rng_next(&x) == 11520);
    assert_true(rng_next(&x) == 0);
    assert_true(rng_next(&x) == 1509978240);
    assert_true(rng_next(&x) == 1215971899390074240ULL);
}

static void test_rng_determinism(void **state)
{
    (void)state;
    struct rng a, b, c;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    rng_seed(&c, 43);
    bool differs = false;
    for (int i = 0; i < 100; i++) {
        uint64_t va = rng_next(&a);
        assert_true(va == rng_next(&b));
        if (va != rng_next(&c)) differs = true;
    }
    assert_true(differs);
}

static void test_rng_below_range_and_uniformity(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    const uint64_t bounds[] = {1, 2, 3, 10, 1000, (1ULL << 63) + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        for (int j = 0; j < 1000; j++) {
            assert_true(rng_below(&r, bounds[i]) < bounds[i]);
        }
    }
    for (int j = 0; j < 100; j++) {
        assert_true(rng_below(&r, 1) == 0);
    }

    int counts[6] = {0};
    for (int j = 0; j < 60000; j++) {
        counts[rng_below(&r, 6)]++;
    }
    for (int k = 0; k < 6; k++) {
        assert_in_range(counts[k], 9500, 10500);
    }
}

/* With n = 3 * 2^62 a plain `x % n` returns values below 2^62 half of the
 * time instead of a third: the bias rng_below() must not have. */
static void test_rng_below_has_no_modulo_bias(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 99);
    const uint64_t n = 3ULL << 62;
    int low = 0;
    const int draws = 30000;
    for (int j = 0; j < draws; j++) {
        if (rng_below(&r, n) < (1ULL << 62)) low++;
    }
    assert_in_range(low, draws / 3 - 600, draws / 3 + 600);
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t a[37], b[37], zero[37] = {0};
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    random_bytes(a, sizeof(a));
    random_bytes(b, sizeof(b));
    assert_true(memcmp(a, b, sizeof(a)) != 0);
    assert_true(memcmp(a, zero, sizeof(a)) != 0);
    random_bytes(a, 0); /* nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_ms_before_first_update_is_real_time),
        cmocka_unit_test(test_clock_is_cached_until_update),
        cmocka_unit_test(test_clock_freeze_and_unfreeze),
        cmocka_unit_test(test_clock_mono_advances),
        cmocka_unit_test(test_str_to_ll_accepts),
        cmocka_unit_test(test_str_to_ll_rejects),
        cmocka_unit_test(test_str_to_ll_reads_only_len_bytes),
        cmocka_unit_test(test_str_to_ull),
        cmocka_unit_test(test_ll_to_str),
        cmocka_unit_test(test_ll_round_trip),
        cmocka_unit_test(test_str_to_d_accepts),
        cmocka_unit_test(test_str_to_d_rejects),
        cmocka_unit_test(test_str_to_ld),
        cmocka_unit_test(test_d_to_str),
        cmocka_unit_test(test_ld_to_str),
        cmocka_unit_test(test_d_round_trip),
        cmocka_unit_test(test_mem_to_ll_units),
        cmocka_unit_test(test_mem_to_ll_rejects),
        cmocka_unit_test(test_glob_basics),
        cmocka_unit_test(test_glob_nocase),
        cmocka_unit_test(test_glob_high_bytes),
        cmocka_unit_test(test_glob_binary_and_lengths),
        cmocka_unit_test(test_glob_hostile_patterns_are_fast),
        cmocka_unit_test(test_glob_nesting_limit),
        cmocka_unit_test(test_split_args_plain),
        cmocka_unit_test(test_split_args_double_quotes),
        cmocka_unit_test(test_split_args_single_quotes),
        cmocka_unit_test(test_split_args_errors),
        cmocka_unit_test(test_split_args_stops_at_nul),
        cmocka_unit_test(test_split_args_long_argument),
        cmocka_unit_test(test_slice_eq_nocase),
        cmocka_unit_test(test_hash_known_answers),
        cmocka_unit_test(test_hash_seed_and_input_sensitivity),
        cmocka_unit_test(test_hash_nocase),
        cmocka_unit_test(test_rng_known_answers),
        cmocka_unit_test(test_rng_determinism),
        cmocka_unit_test(test_rng_below_range_and_uniformity),
        cmocka_unit_test(test_rng_below_has_no_modulo_bias),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
