/* test_listpack.c: the packed sequence against a plain array model.
 *
 * Fixed cases pin the encodings at their limits (every integer width, the
 * 6/12/32-bit string lengths, backlens of 1..3 bytes); a seeded loop then
 * applies random inserts, deletes, range deletes, replaces, splits and
 * merges to a listpack and to an array of strings, and after every step
 * walks the listpack forwards and backwards and checks it equals the model
 * and passes lp_validate(). */
#include "ember/listpack.h"
#include "ember/mem.h"
#include "ember/util.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- The model: an array of owned byte strings ---- */

struct item {
    char *s;
    size_t len;
};

struct model {
    struct item *v;
    size_t n, cap;
};

static void model_insert(struct model *m, size_t at, struct slice s)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    m->v[at].s = malloc(s.len + 1);
    if (s.len > 0) memcpy(m->v[at].s, s.ptr, s.len);
    m->v[at].len = s.len;
    m->n++;
}

static void model_delete(struct model *m, size_t at, size_t k)
{
    for (size_t i = at; i < at + k; i++)
        free(m->v[i].s);
    memmove(m->v + at, m->v + at + k, (m->n - at - k) * sizeof(*m->v));
    m->n -= k;
}

static void model_clear(struct model *m)
{
    model_delete(m, 0, m->n);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static void assert_entry_is(const uint8_t *p, const char *s, size_t len)
{
    char buf[UTIL_LL_STR_SIZE];
    struct lp_value v = lp_get(p);
    struct slice got = lp_value_slice(&v, buf);
    assert_int_equal(got.len, len);
    if (len > 0) assert_memory_equal(got.ptr, s, len);
}

/* Walks both ways and compares every entry with the model. */
static void check_equal(const struct listpack *lp, const struct model *m)
{
    assert_true(lp_validate(lp));
    assert_int_equal(lp_count(lp), m->n);
    size_t i = 0;
    for (uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p), i++) {
        assert_true(i < m->n);
        assert_entry_is(p, m->v[i].s, m->v[i].len);
    }
    assert_int_equal(i, m->n);
    for (uint8_t *p = lp_last(lp); p != NULL; p = lp_prev(lp, p)) {
        assert_true(i > 0);
        i--;
        assert_entry_is(p, m->v[i].s, m->v[i].len);
    }
    assert_int_equal(i, 0);
}

/* ---- Values worth testing ---- */

static const long long int_limits[] = {
    0,
    1,
    127,
    128,
    -1,
    -4096,
    -4097,
    4095,
    4096,
    INT16_MIN,
    INT16_MIN - 1,
    INT16_MAX,
    INT16_MAX + 1,
    -(1 << 23),
    -(1 << 23) - 1,
    (1 << 23) - 1,
    1 << 23,
    INT32_MIN,
    (long long)INT32_MIN - 1,
    INT32_MAX,
    (long long)INT32_MAX + 1,
    LLONG_MIN,
    LLONG_MAX,
    LLONG_MIN + 1,
    LLONG_MAX - 1,
};

static const char *not_ints[] = {
    "007", "+1", "-0",   " 1", "1 ", "9223372036854775808", "-9223372036854775809",
    "1.5", "-",  "0x10", "",
};

static char big[70000];

/* Fills buf with a random value and returns it (int-like, a limit, a string
 * at a length boundary, or big). */
static struct slice random_value(struct rng *r, char *buf)
{
    uint64_t kind = rng_below(r, 10);
    if (kind == 0) {
        long long v = int_limits[rng_below(r, sizeof(int_limits) / sizeof(*int_limits))];
        return (struct slice){buf, (size_t)ll_to_str(buf, UTIL_LL_STR_SIZE, v)};
    }
    if (kind == 1) {
        long long v = (long long)rng_next(r) >> rng_below(r, 64);
        return (struct slice){buf, (size_t)ll_to_str(buf, UTIL_LL_STR_SIZE, v)};
    }
    if (kind == 2) {
        const char *s = not_ints[rng_below(r, sizeof(not_ints) / sizeof(*not_ints))];
        return (struct slice){s, strlen(s)};
    }
    if (kind == 3) {
        static const size_t lens[] = {63, 64, 127, 128, 4095, 4096, 16383, 16384};
        size_t len = lens[rng_below(r, 8)];
        return (struct slice){big + rng_below(r, 1000), len};
    }
    if (kind == 4 && rng_below(r, 20) == 0) return (struct slice){big, sizeof(big) - 1000};
    size_t len = rng_below(r, 24);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rng_below(r, 26));
    return (struct slice){buf, len};
}

/* ---- Fixed cases ---- */

static void test_empty(void **state)
{
    (void)state;
    struct listpack *lp = lp_create();
    assert_int_equal(lp_count(lp), 0);
    assert_int_equal(lp_bytes(lp), LP_HDR_SIZE);
    assert_null(lp_first(lp));
    assert_null(lp_last(lp));
    assert_null(lp_seek(lp, 0));
    assert_null(lp_seek(lp, -1));
    assert_null(lp_find(lp, lp_first(lp), SLICE_LIT("x"), 0));
    assert_true(lp_validate(lp));
    lp_destroy(lp);
    lp_destroy(NULL);
}

static void test_integer_limits(void **state)
{
    (void)state;
    struct listpack *lp = lp_create();
    size_t n = sizeof(int_limits) / sizeof(*int_limits);
    for (size_t i = 0; i < n; i++) {
        char buf[UTIL_LL_STR_SIZE];
        int len = ll_to_str(buf, sizeof(buf), int_limits[i]);
        lp = lp_append(lp, (struct slice){buf, (size_t)len});
        lp = lp_insert_ll(lp, lp_end(lp), int_limits[i], NULL);
    }
    assert_true(lp_validate(lp));
    size_t i = 0;
    for (uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p), i++) {
        struct lp_value v = lp_get(p);
        assert_null(v.str);
        assert_true(v.ll == int_limits[i / 2]);
    }
    assert_int_equal(i, 2 * n);
    lp_destroy(lp);
}

/* Entry sizes: what Redis's listpack spends on the same values. */
static void test_entry_sizes(void **state)
{
    (void)state;
    assert_int_equal(lp_entry_size(SLICE_LIT("0")), 2);
    assert_int_equal(lp_entry_size(SLICE_LIT("127")), 2);
    assert_int_equal(lp_entry_size(SLICE_LIT("128")), 3);
    assert_int_equal(lp_entry_size(SLICE_LIT("-4096")), 3);
    assert_int_equal(lp_entry_size(SLICE_LIT("-4097")), 4);
    assert_int_equal(lp_entry_size(SLICE_LIT("9223372036854775807")), 10);
    assert_int_equal(lp_entry_size(SLICE_LIT("")), 2);
    assert_int_equal(lp_entry_size(SLICE_LIT("xxxxxxxxxxxxxxxx")), 18);
    assert_int_equal(lp_entry_size((struct slice){big, 63}), 65);
    assert_int_equal(lp_entry_size((struct slice){big, 64}), 67); /* 2-byte header */
    assert_int_equal(lp_entry_size((struct slice){big, 125}), 128);
    assert_int_equal(lp_entry_size((struct slice){big, 126}), 130); /* 2-byte backlen */
    assert_int_equal(lp_entry_size((struct slice){big, 4096}), 4103);
    assert_int_equal(lp_entry_size((struct slice){big, 20000}), 20008); /* 3-byte backlen */
    assert_int_equal(lp_entry_size_ll(-1), 3);
}

static void test_strings_at_boundaries(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 63, 64, 125, 126, 127, 4095, 4096, 16377, 16378, 65536};
    struct model m = {0};
    struct listpack *lp = lp_create();
    for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
        struct slice s = {big + i, lens[i]};
        lp = lp_prepend(lp, s);
        model_insert(&m, 0, s);
        check_equal(lp, &m);
    }
    lp_destroy(lp);
    model_clear(&m);
}

static void test_seek_and_find(void **state)
{
    (void)state;
    struct listpack *lp = lp_create();
    const char *fields[] = {"a", "1", "b", "2", "1", "x", "", "y"};
    for (size_t i = 0; i < 8; i++)
        lp = lp_append(lp, (struct slice){fields[i], strlen(fields[i])});
    assert_entry_is(lp_seek(lp, 0), "a", 1);
    assert_entry_is(lp_seek(lp, 7), "y", 1);
    assert_entry_is(lp_seek(lp, -1), "y", 1);
    assert_entry_is(lp_seek(lp, -8), "a", 1);
    assert_null(lp_seek(lp, 8));
    assert_null(lp_seek(lp, -9));
    /* skip = 1 compares fields only (even positions). */
    assert_ptr_equal(lp_find(lp, lp_first(lp), SLICE_LIT("1"), 1), lp_seek(lp, 4));
    assert_ptr_equal(lp_find(lp, lp_first(lp), SLICE_LIT("1"), 0), lp_seek(lp, 1));
    assert_null(lp_find(lp, lp_first(lp), SLICE_LIT("2"), 1));
    assert_ptr_equal(lp_find(lp, lp_first(lp), SLICE_LIT(""), 1), lp_seek(lp, 6));
    assert_null(lp_find(lp, lp_first(lp), SLICE_LIT("01"), 0));
    struct lp_needle n;
    lp_needle_init(&n, SLICE_LIT("x"));
    assert_true(lp_match(lp_seek(lp, 5), &n));
    assert_false(lp_match(lp_seek(lp, 4), &n));
    lp_destroy(lp);
}

static void test_replace_grow_and_shrink(void **state)
{
    (void)state;
    struct listpack *lp = lp_create();
    lp = lp_append(lp, SLICE_LIT("a"));
    lp = lp_append(lp, SLICE_LIT("b"));
    lp = lp_append(lp, SLICE_LIT("c"));
    uint8_t *p = lp_seek(lp, 1);
    lp = lp_replace(lp, &p, (struct slice){big, 5000});
    assert_entry_is(p, big, 5000);
    lp = lp_replace_ll(lp, &p, -123456);
    assert_entry_is(p, "-123456", 7);
    assert_entry_is(lp_next(lp, p), "c", 1);
    assert_entry_is(lp_prev(lp, p), "a", 1);
    lp = lp_delete(lp, &p);
    assert_entry_is(p, "c", 1);
    lp = lp_delete(lp, &p);
    assert_null(p);
    assert_int_equal(lp_count(lp), 1);
    assert_true(lp_validate(lp));
    lp_destroy(lp);
}

static void test_validate_rejects_corruption(void **state)
{
    (void)state;
    struct listpack *lp = lp_create();
    lp = lp_append(lp, SLICE_LIT("hello"));
    lp = lp_append(lp, SLICE_LIT("12345"));
    assert_true(lp_validate(lp));
    lp->count = 3;
    assert_false(lp_validate(lp));
    lp->count = 2;
    lp->data[6] ^= 0x01; /* the first entry's backlen */
    assert_false(lp_validate(lp));
    lp->data[6] ^= 0x01;
    lp->data[0] = 0xFF; /* not an encoding */
    assert_false(lp_validate(lp));
    lp_destroy(lp);
}

/* ---- Seeded random operations ---- */

static void random_ops(uint64_t seed, int steps)
{
    struct rng r;
    rng_seed(&r, seed);
    struct model m = {0};
    struct listpack *lp = lp_create();
    char buf[64];
    for (int step = 0; step < steps; step++) {
        uint64_t op = rng_below(&r, 100);
        size_t n = m.n;
        if (op < 45 || n == 0) {
            struct slice s = random_value(&r, buf);
            size_t at = rng_below(&r, n + 1);
            uint8_t *pos = at == n ? lp_end(lp) : lp_seek(lp, (long long)at);
            uint8_t *ins;
            lp = lp_insert(lp, pos, s, &ins);
            model_insert(&m, at, s);
            assert_entry_is(ins, s.ptr, s.len);
        } else if (op < 65) {
            size_t at = rng_below(&r, n);
            uint8_t *p = lp_seek(lp, (long long)at - (long long)n); /* negative index */
            lp = lp_delete(lp, &p);
            model_delete(&m, at, 1);
            if (at < m.n)
                assert_entry_is(p, m.v[at].s, m.v[at].len);
            else
                assert_null(p);
        } else if (op < 72) {
            size_t at = rng_below(&r, n);
            size_t k = rng_below(&r, 6);
            lp = lp_delete_range(lp, lp_seek(lp, (long long)at), k);
            model_delete(&m, at, k < n - at ? k : n - at);
        } else if (op < 85) {
            size_t at = rng_below(&r, n);
            struct slice s = random_value(&r, buf);
            uint8_t *p = lp_seek(lp, (long long)at);
            lp = lp_replace(lp, &p, s);
            model_delete(&m, at, 1);
            model_insert(&m, at, s);
            assert_entry_is(p, s.ptr, s.len);
        } else if (op < 90) {
            /* Copy, split the copy at a random entry, then merge back. */
            struct listpack *copy = lp_dup(lp);
            lp_destroy(lp);
            lp = copy;
            size_t at = rng_below(&r, n);
            struct listpack *tail = lp_split(&lp, lp_seek(lp, (long long)at));
            assert_int_equal(lp_count(lp), at);
            assert_int_equal(lp_count(tail), n - at);
            assert_true(lp_validate(lp));
            assert_true(lp_validate(tail));
            lp = lp_merge(lp, tail);
        } else {
            /* Find each of a few model values and compare positions. */
            size_t at = rng_below(&r, n);
            struct slice want = {m.v[at].s, m.v[at].len};
            size_t first = 0;
            char b2[UTIL_LL_STR_SIZE];
            while (first < n) {
                struct lp_value v = lp_get(lp_seek(lp, (long long)first));
                struct slice got = lp_value_slice(&v, b2);
                if (got.len == want.len && (got.len == 0 || !memcmp(got.ptr, want.ptr, got.len))) {
                    break;
                }
                first++;
            }
            assert_true(first <= at);
            assert_ptr_equal(lp_find(lp, lp_first(lp), want, 0), lp_seek(lp, (long long)first));
        }
        check_equal(lp, &m);
        if (m.n > 300) { /* keep the walk cheap: trim back */
            lp = lp_delete_range(lp, lp_first(lp), 200);
            model_delete(&m, 0, 200);
        }
    }
    lp_destroy(lp);
    model_clear(&m);
}

static void test_random_ops(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++)
        random_ops(seed, 1500);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('A' + i % 53);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_integer_limits),
        cmocka_unit_test(test_entry_sizes),
        cmocka_unit_test(test_strings_at_boundaries),
        cmocka_unit_test(test_seek_and_find),
        cmocka_unit_test(test_replace_grow_and_shrink),
        cmocka_unit_test(test_validate_rejects_corruption),
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
