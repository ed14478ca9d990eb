/* fuzz_numbers.c: libFuzzer target for the number parsers and printers in
 * util.h (Redis's string2ll, string2d, string2ld, ll2string, d2string,
 * ld2string, memtoll) and resp_encode_header().
 *
 * The input is used two ways:
 *  - as text: str_to_ll/str_to_ull must accept exactly the canonical
 *    decimals in range (checked against a plain rule plus strtoll/strtoull),
 *    and what they accept prints back byte for byte; what str_to_d accepts
 *    prints (d_to_str) and parses back to the same double; str_to_ld and
 *    mem_to_ll must not misbehave on any bytes;
 *  - as raw values (its first bytes): any long long prints and parses back
 *    (also through resp_encode_header); any non-NaN double prints and parses
 *    back to the same bits; any finite long double prints into
 *    UTIL_LD_STR_SIZE and the text parses again. */
#include "ember/resp.h"
#include "ember/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_numbers: check failed at line %d: %s\n", __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Canonical decimal: "0", or an optional '-' (signed only) and digits not
 * starting with '0'; "-0" is not canonical. */
static bool canonical(const char *s, size_t len, bool allow_minus)
{
    if (len == 1 && s[0] == '0') return true;
    size_t i = allow_minus && len > 0 && s[0] == '-' ? 1 : 0;
    if (i >= len || s[i] < '1' || s[i] > '9') return false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
}

static void check_ll_text(const char *s, size_t len, const char *z)
{
    long long v = 12345;
    bool ok = str_to_ll(s, len, &v);
    bool want = false;
    if (canonical(s, len, true)) {
        errno = 0;
        strtoll(z, NULL, 10);
        want = errno != ERANGE;
    }
    CHECK(ok == want);
    if (!ok) {
        CHECK(v == 12345); /* untouched on failure */
        return;
    }
    char buf[UTIL_LL_STR_SIZE];
    int n = ll_to_str(buf, sizeof(buf), v);
    CHECK((size_t)n == len && memcmp(buf, s, len) == 0);
    CHECK(str_to_ll(s, len, NULL));
}

static void check_ull_text(const char *s, size_t len, const char *z)
{
    unsigned long long v = 12345;
    bool ok = str_to_ull(s, len, &v);
    bool want = false;
    if (canonical(s, len, false)) {
        errno = 0;
        strtoull(z, NULL, 10);
        want = errno != ERANGE;
    }
    CHECK(ok == want);
    if (!ok) {
        CHECK(v == 12345);
        return;
    }
    char buf[UTIL_LL_STR_SIZE];
    int n = ull_to_str(buf, sizeof(buf), v);
    CHECK((size_t)n == len && memcmp(buf, s, len) == 0);
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* d_to_str(v) parses back to v exactly. */
static void check_d_round_trip(double v)
{
    if (isnan(v)) return;
    char buf[UTIL_D_STR_SIZE];
    int n = d_to_str(buf, sizeof(buf), v);
    CHECK(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
    double back = 0;
    CHECK(str_to_d(buf, (size_t)n, &back));
    CHECK(same_double(v, back));
}

static void check_d_text(const char *s, size_t len)
{
    double v = 0;
    if (!str_to_d(s, len, &v)) return;
    CHECK(!isnan(v));
    CHECK(len > 0);
    check_d_round_trip(v);
}

static void check_ld(long double v)
{
    if (isnan(v)) return;
    static char buf[UTIL_LD_STR_SIZE];
    int n = ld_to_str(buf, sizeof(buf), v);
    CHECK(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
    CHECK(!(n == 2 && buf[0] == '-' && buf[1] == '0'));
    long double back = 0;
    if (n < 5120) CHECK(str_to_ld(buf, (size_t)n, &back));
}

static void check_ll_value(long long v)
{
    char buf[UTIL_LL_STR_SIZE];
    int n = ll_to_str(buf, sizeof(buf), v);
    long long back = 0;
    CHECK(n > 0 && str_to_ll(buf, (size_t)n, &back) && back == v);
    /* Too small a buffer gives 0 and an empty string. */
    char small[4];
    int m = ll_to_str(small, sizeof(small), v);
    CHECK(m == (n < 4 ? n : 0) && strlen(small) == (size_t)m);

    char hdr[RESP_HDR_MAX];
    size_t h = resp_encode_header(hdr, ':', v);
    CHECK(h == (size_t)n + 3 && hdr[0] == ':' && memcmp(hdr + 1, buf, (size_t)n) == 0);
    CHECK(hdr[h - 2] == '\r' && hdr[h - 1] == '\n');

    unsigned long long u = (unsigned long long)v;
    n = ull_to_str(buf, sizeof(buf), u);
    unsigned long long uback = 0;
    CHECK(n > 0 && str_to_ull(buf, (size_t)n, &uback) && uback == u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) return 0;
    /* Exact-size copy (ASan sees overreads) and a NUL-terminated one. */
    char *s = malloc(size ? size : 1);
    char *z = malloc(size + 1);
    if (s == NULL || z == NULL) abort();
    memcpy(s, data, size);
    memcpy(z, data, size);
    z[size] = '\0';

    check_ll_text(s, size, z);
    check_ull_text(s, size, z);
    check_d_text(s, size);
    long double ld;
    if (str_to_ld(s, size, &ld)) check_ld(ld);
    bool ok;
    long long m = mem_to_ll(z, &ok);
    if (ok && memchr(s, '\0', size) == NULL && canonical(s, size, true)) {
        long long v;
        CHECK(str_to_ll(s, size, &v) && v == m);
    }

    if (size >= 8) {
        long long v;
        double d;
        memcpy(&v, data, 8);
        memcpy(&d, data, 8);
        check_ll_value(v);
        check_d_round_trip(d);
    }
    if (size >= 10) {
        long double x = 0;
        memcpy(&x, data, 10); /* x87 80-bit extended: 10 significant bytes */
        check_ld(x);
    }
    free(s);
    free(z);
    return 0;
}
