/* test_list.c: the list container against a plain array model.
 *
 * Fixed cases check the form changes (a bare listpack becomes a quicklist
 * past the fill limit and comes back when small) and the node bounds for
 * count and size fills. A seeded loop then runs pushes and pops at both
 * ends, LINDEX, LSET, LINSERT (by index and by pivot), LREM in both
 * directions and LTRIM-style range deletes under several fills (tiny fills
 * make every operation cross node boundaries), comparing the whole list
 * both ways after every step. */
#include "ember/list.h"
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

/* ---- Model ---- */

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

static bool item_eq(const struct item *it, struct slice s)
{
    return it->len == s.len && (s.len == 0 || memcmp(it->s, s.ptr, s.len) == 0);
}

static void assert_value_is(const struct lp_value *v, const struct item *want)
{
    char buf[UTIL_LL_STR_SIZE];
    struct slice got = lp_value_slice(v, buf);
    assert_true(item_eq(want, got));
}

static void check_equal(const struct list *l, const struct model *m)
{
    assert_true(list_validate(l));
    assert_int_equal(list_len(l), m->n);
    struct list_iter it;
    struct lp_value v;
    size_t i = 0;
    list_iter_init(&it, l, 0, true);
    while (list_iter_next(&it, &v))
        assert_value_is(&v, &m->v[i++]);
    assert_int_equal(i, m->n);
    list_iter_init(&it, l, -1, false);
    while (list_iter_next(&it, &v))
        assert_value_is(&v, &m->v[--i]);
    assert_int_equal(i, 0);
}

static char big[20000];

static struct slice random_value(struct rng *r, char *buf)
{
    uint64_t kind = rng_below(r, 20);
    if (kind == 0) return (struct slice){big, 100 + rng_below(r, 9000)};
    if (kind < 4) {
        long long v = (long long)rng_below(r, 50) - 10;
        return (struct slice){buf, (size_t)ll_to_str(buf, UTIL_LL_STR_SIZE, v)};
    }
    /* Few distinct short strings, so LREM and LINSERT find matches. */
    size_t len = rng_below(r, 4);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rng_below(r, 3));
    return (struct slice){buf, len};
}

/* ---- Fixed cases ---- */

static void test_packed_then_quicklist_then_packed(void **state)
{
    (void)state;
    struct list *l = list_create();
    assert_true(list_is_packed(l));
    assert_int_equal(list_len(l), 0);
    for (int i = 0; i < 10; i++)
        list_push(&l, SLICE_LIT("xxxxxxxxxxxxxxxx"), LIST_TAIL, -2);
    assert_true(list_is_packed(l));
    /* One allocation: 8 bytes of header and 18 per element. */
    assert_true(list_memory(l) <= 192);
    for (int i = 0; i < 1000; i++)
        list_push(&l, SLICE_LIT("xxxxxxxxxxxxxxxx"), LIST_HEAD, -2);
    assert_false(list_is_packed(l));
    /* 8 KB nodes of 18-byte entries: about 455 per node. */
    assert_int_equal(list_node_count(l), 3);
    assert_true(list_validate(l));
    while (list_len(l) > 100)
        list_pop(&l, LIST_HEAD, -2);
    assert_true(list_is_packed(l));
    assert_true(list_validate(l));
    list_destroy(l);
    list_destroy(NULL);
}

static void test_count_fill(void **state)
{
    (void)state;
    struct list *l = list_create();
    for (int i = 0; i < 23; i++) {
        char buf[UTIL_LL_STR_SIZE];
        list_push(&l, (struct slice){buf, (size_t)ll_to_str(buf, sizeof(buf), i)}, LIST_TAIL, 5);
    }
    assert_int_equal(list_node_count(l), 5);
    for (long long i = -23; i < 23; i++) {
        struct lp_value v;
        assert_true(list_index(l, i, &v));
        assert_null(v.str);
        assert_int_equal(v.ll, i < 0 ? i + 23 : i);
    }
    struct lp_value v;
    assert_false(list_index(l, 23, &v));
    assert_false(list_index(l, -24, &v));
    assert_false(list_index(l, LLONG_MIN, &v));
    list_destroy(l);
}

static void test_big_elements_get_their_own_node(void **state)
{
    (void)state;
    struct list *l = list_create();
    list_push(&l, (struct slice){big, 10000}, LIST_TAIL, -1);
    assert_true(list_is_packed(l)); /* an empty listpack takes anything */
    list_push(&l, (struct slice){big, 10000}, LIST_TAIL, -1);
    list_push(&l, SLICE_LIT("a"), LIST_TAIL, -1);
    list_push(&l, SLICE_LIT("b"), LIST_HEAD, -1);
    assert_int_equal(list_node_count(l), 4);
    list_destroy(l);
}

static void test_fill_is_clamped(void **state)
{
    (void)state;
    struct list *l = list_create();
    for (int i = 0; i < 5000; i++)
        list_push(&l, SLICE_LIT("x"), LIST_TAIL, -100); /* = -5 */
    assert_true(list_is_packed(l));
    for (int i = 0; i < 40000; i++)
        list_push(&l, SLICE_LIT("x"), LIST_TAIL, 1000000);
    /* 32767 entries would take 64 KB: the 8 KB safety limit decides. */
    assert_true(list_node_count(l) >= 45000 * 2 / 8192);
    assert_true(list_validate(l));
    list_destroy(l);
}

static void test_insert_pivot_and_remove(void **state)
{
    (void)state;
    struct list *l = list_create();
    for (int i = 0; i < 6; i++)
        list_push(&l, SLICE_LIT("a"), LIST_TAIL, 2);
    assert_int_equal(list_insert_pivot(&l, SLICE_LIT("zz"), SLICE_LIT("x"), false, 2), -1);
    assert_int_equal(list_insert_pivot(&l, SLICE_LIT("a"), SLICE_LIT("b"), true, 2), 7);
    assert_int_equal(list_insert_pivot(&l, SLICE_LIT("b"), SLICE_LIT("c"), false, 2), 8);
    struct lp_value v;
    assert_true(list_index(l, 1, &v));
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.str, "c", 1);
    assert_int_equal(list_remove(&l, SLICE_LIT("a"), -2, 2), 2);
    assert_int_equal(list_remove(&l, SLICE_LIT("a"), 0, 2), 4);
    assert_int_equal(list_len(l), 2);
    assert_true(list_validate(l));
    list_destroy(l);
}

/* ---- Seeded random operations ---- */

static void random_ops(uint64_t seed, int fill, int steps)
{
    struct rng r;
    rng_seed(&r, seed);
    struct model m = {0};
    struct list *l = list_create();
    char buf[64];
    size_t max_nodes = 0;
    for (int step = 0; step < steps; step++) {
        uint64_t op = rng_below(&r, 100);
        size_t n = m.n;
        if (op < 30 || n == 0) {
            struct slice s = random_value(&r, buf);
            enum list_end end = rng_below(&r, 2) ? LIST_HEAD : LIST_TAIL;
            list_push(&l, s, end, fill);
            model_insert(&m, end == LIST_HEAD ? 0 : n, s);
        } else if (op < 50) {
            enum list_end end = rng_below(&r, 2) ? LIST_HEAD : LIST_TAIL;
            struct lp_value v;
            assert_true(list_index(l, end == LIST_HEAD ? 0 : -1, &v));
            assert_value_is(&v, &m.v[end == LIST_HEAD ? 0 : n - 1]);
            list_pop(&l, end, fill);
            model_delete(&m, end == LIST_HEAD ? 0 : n - 1, 1);
        } else if (op < 60) {
            long long i = (long long)rng_below(&r, 2 * n + 2) - (long long)n - 1;
            struct lp_value v;
            bool ok = list_index(l, i, &v);
            long long j = i < 0 ? i + (long long)n : i;
            assert_int_equal(ok, j >= 0 && j < (long long)n);
            if (ok) assert_value_is(&v, &m.v[j]);
        } else if (op < 68) {
            size_t i = rng_below(&r, n);
            struct slice s = random_value(&r, buf);
            assert_true(list_set(&l, (long long)i - (long long)n, s, fill));
            model_delete(&m, i, 1);
            model_insert(&m, i, s);
        } else if (op < 78) {
            size_t i = rng_below(&r, n + 1);
            struct slice s = random_value(&r, buf);
            list_insert_at(&l, i, s, fill);
            model_insert(&m, i, s);
        } else if (op < 84) {
            char pbuf[64];
            struct slice pivot = random_value(&r, pbuf);
            struct slice s = random_value(&r, buf);
            bool after = rng_below(&r, 2);
            size_t i = 0;
            while (i < n && !item_eq(&m.v[i], pivot))
                i++;
            long long got = list_insert_pivot(&l, pivot, s, after, fill);
            if (i == n) {
                assert_int_equal(got, -1);
            } else {
                model_insert(&m, i + after, s);
                assert_int_equal(got, (long long)m.n);
            }
        } else if (op < 90) {
            struct slice s = random_value(&r, buf);
            long long count = (long long)rng_below(&r, 7) - 3;
            size_t want = 0;
            size_t limit = count == 0 ? SIZE_MAX : (size_t)llabs(count);
            if (count >= 0) {
                for (size_t i = 0; i < m.n && want < limit;) {
                    if (item_eq(&m.v[i], s)) {
                        model_delete(&m, i, 1);
                        want++;
                    } else {
                        i++;
                    }
                }
            } else {
                for (size_t i = m.n; i > 0 && want < limit; i--) {
                    if (item_eq(&m.v[i - 1], s)) {
                        model_delete(&m, i - 1, 1);
                        want++;
                    }
                }
            }
            assert_int_equal(list_remove(&l, s, count, fill), want);
        } else if (op < 95) {
            size_t start = rng_below(&r, n + 1);
            size_t k = rng_below(&r, n / 2 + 2);
            list_delete_range(&l, start, k, fill);
            if (start < n) model_delete(&m, start, k < n - start ? k : n - start);
        } else if (op < 97) {
            /* A deep copy equals the list and survives its destruction. */
            bool packed = list_is_packed(l);
            size_t nodes = list_node_count(l);
            struct list *copy = list_dup(l);
            list_destroy(l);
            l = copy;
            assert_int_equal(list_is_packed(l), packed);
            assert_int_equal(list_node_count(l), nodes);
        } else {
            /* A walk from a random index in a random direction. */
            long long i = (long long)rng_below(&r, n);
            bool fwd = rng_below(&r, 2);
            struct list_iter it;
            struct lp_value v;
            list_iter_init(&it, l, i, fwd);
            size_t seen = 0;
            for (long long j = i; list_iter_next(&it, &v); j += fwd ? 1 : -1) {
                assert_value_is(&v, &m.v[j]);
                seen++;
            }
            assert_int_equal(seen, fwd ? n - (size_t)i : (size_t)i + 1);
        }
        check_equal(l, &m);
        if (list_node_count(l) > max_nodes) max_nodes = list_node_count(l);
        if (m.n > 600) {
            list_delete_range(&l, 100, 400, fill);
            model_delete(&m, 100, 400);
        }
    }
    /* Every fill below 64 KB must have made the walks cross nodes. */
    if (fill > -5) assert_true(max_nodes > 1);
    list_destroy(l);
    model_clear(&m);
}

static void test_random_ops(void **state)
{
    (void)state;
    static const int fills[] = {-2, -1, -5, 0, 1, 2, 3, 7, 128};
    for (size_t f = 0; f < sizeof(fills) / sizeof(*fills); f++) {
        for (uint64_t seed = 1; seed <= 3; seed++)
            random_ops(seed * 1000 + f, fills[f], 2000);
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('A' + i % 53);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_then_quicklist_then_packed),
        cmocka_unit_test(test_count_fill),
        cmocka_unit_test(test_big_elements_get_their_own_node),
        cmocka_unit_test(test_fill_is_clamped),
        cmocka_unit_test(test_insert_pivot_and_remove),
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
