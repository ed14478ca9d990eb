/* test_set.c: the set container against a plain array model.
 *
 * Fixed cases check each form change (intset widths 16 -> 32 -> 64 bits,
 * intset -> listpack on a string, intset -> table past the intset limit,
 * listpack -> table past either listpack limit), what OBJECT ENCODING would
 * report, the keyspace entry's tagged pointer, and that integers and their
 * text are one member ("12" vs 12, but not "012"). A seeded loop then runs
 * adds, removes, lookups, random draws (single, repeated, distinct), pops,
 * scans and copies under several limit settings (tiny limits make every
 * operation cross a conversion), comparing membership and size with the
 * model and the form with a model of the conversion rules after every
 * step. */
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/set.h"
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

static const struct set_limits DEFAULTS = {512, 128, 64};

/* ---- Model ---- */

struct model {
    char **s;
    size_t *len;
    size_t n, cap;
    enum obj_enc form; /* what the conversion rules predict */
};

static long model_find(const struct model *m, struct slice v)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->len[i] == v.len && (v.len == 0 || memcmp(m->s[i], v.ptr, v.len) == 0)) {
            return (long)i;
        }
    }
    return -1;
}

static bool is_int(struct slice v)
{
    return v.len <= 20 && str_to_ll(v.ptr, v.len, NULL);
}

static bool all_int(const struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!is_int((struct slice){m->s[i], m->len[i]})) return false;
    }
    return true;
}

static size_t max_len(const struct model *m)
{
    size_t x = 0;
    for (size_t i = 0; i < m->n; i++)
        x = m->len[i] > x ? m->len[i] : x;
    return x;
}

/* Adds to the model and advances the predicted form as set.h describes. */
static bool model_add(struct model *m, struct slice v, const struct set_limits *lim)
{
    if (model_find(m, v) >= 0) return false;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->s = realloc(m->s, m->cap * sizeof(*m->s));
        m->len = realloc(m->len, m->cap * sizeof(*m->len));
    }
    m->s[m->n] = malloc(v.len + 1);
    if (v.len > 0) memcpy(m->s[m->n], v.ptr, v.len);
    m->len[m->n] = v.len;
    m->n++;
    if (m->form == OBJ_ENC_INTSET && !(is_int(v) && m->n <= lim->max_intset_entries)) {
        bool fits = m->n <= lim->max_listpack_entries && max_len(m) <= lim->max_listpack_value;
        m->form = fits ? OBJ_ENC_LISTPACK : OBJ_ENC_HT;
    } else if (m->form == OBJ_ENC_LISTPACK &&
               (m->n > lim->max_listpack_entries || v.len > lim->max_listpack_value)) {
        m->form = OBJ_ENC_HT;
    }
    return true;
}

static bool model_remove(struct model *m, struct slice v)
{
    long i = model_find(m, v);
    if (i < 0) return false;
    free(m->s[i]);
    m->s[i] = m->s[m->n - 1];
    m->len[i] = m->len[m->n - 1];
    m->n--;
    return true;
}

static void model_clear(struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->s[i]);
    free(m->s);
    free(m->len);
    memset(m, 0, sizeof(*m));
}

/* ---- Helpers ---- */

static struct slice text_of(const struct lp_value *v, char *buf)
{
    return lp_value_slice(v, buf);
}

/* Marks of members seen in a walk, to check "each exactly once". */
struct walk {
    const struct model *m;
    int *seen;
    size_t calls;
};

static void walk_fn(const struct lp_value *v, void *arg)
{
    struct walk *w = arg;
    char buf[UTIL_LL_STR_SIZE];
    long i = model_find(w->m, text_of(v, buf));
    assert_true(i >= 0);
    w->seen[i]++;
    w->calls++;
}

static void walk_init(struct walk *w, const struct model *m)
{
    w->m = m;
    w->seen = calloc(m->n + 1, sizeof(int));
    w->calls = 0;
}

static void check_equal(struct set *s, const struct model *m)
{
    assert_true(set_validate(s));
    assert_int_equal(set_size(s), m->n);
    assert_int_equal(s->enc, m->form);
    struct walk w;
    walk_init(&w, m);
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &v))
        walk_fn(&v, &w);
    set_iter_deinit(&it);
    for (size_t i = 0; i < m->n; i++)
        assert_int_equal(w.seen[i], 1);
    free(w.seen);
    if (s->enc == OBJ_ENC_INTSET) {
        assert_true(all_int(m));
        /* Ascending order. */
        set_iter_init(&it, s);
        long long prev = LLONG_MIN;
        bool first = true;
        while (set_iter_next(&it, &v)) {
            assert_null(v.str);
            assert_true(first || v.ll > prev);
            prev = v.ll;
            first = false;
        }
        set_iter_deinit(&it);
    }
}

/* A member drawn from pools that exercise every path: small ints (16-bit),
 * 32- and 64-bit ints, integer-looking text that is not canonical, short
 * strings, strings past the listpack value limit, the empty string. */
static struct slice random_member(struct rng *r, char *buf, size_t cap)
{
    static const char *const odd[] = {"007",
                                      "+1",
                                      "-0",
                                      " 1",
                                      "1 ",
                                      "1.5",
                                      "",
                                      "0x10",
                                      "9223372036854775808",
                                      "-9223372036854775809"};
    int len;
    switch (rng_below(r, 10)) {
    case 0:
    case 1:
    case 2:
        len = snprintf(buf, cap, "%lld", (long long)rng_below(r, 200) - 100);
        break;
    case 3:
        len = snprintf(buf, cap, "%lld", (long long)rng_below(r, 1ULL << 32) - (1LL << 31));
        break;
    case 4: {
        long long v = (long long)rng_next(r);
        if (rng_below(r, 8) == 0) v = rng_below(r, 2) ? LLONG_MAX : LLONG_MIN;
        len = snprintf(buf, cap, "%lld", v);
        break;
    }
    case 5: {
        const char *o = odd[rng_below(r, sizeof(odd) / sizeof(odd[0]))];
        return (struct slice){o, strlen(o)};
    }
    case 6:
    case 7:
    case 8:
        len = snprintf(buf, cap, "m%llu", (unsigned long long)rng_below(r, 300));
        break;
    default: {
        size_t n = 40 + (size_t)rng_below(r, 60);
        memset(buf, 'x', n);
        len = snprintf(buf + n, cap - n, "%llu", (unsigned long long)rng_below(r, 20)) + (int)n;
        break;
    }
    }
    return (struct slice){buf, (size_t)len};
}

/* ---- Fixed cases ---- */

static void test_intset_widths(void **state)
{
    (void)state;
    struct set s;
    set_init(&s);
    assert_int_equal(s.enc, OBJ_ENC_INTSET);
    assert_true(set_add(&s, SLICE_LIT("5"), &DEFAULTS));
    assert_true(set_add(&s, SLICE_LIT("-3"), &DEFAULTS));
    assert_false(set_add(&s, SLICE_LIT("5"), &DEFAULTS));
    size_t w16 = set_memory(&s);
    assert_true(set_add(&s, SLICE_LIT("100000"), &DEFAULTS));      /* 32 bits */
    assert_true(set_add(&s, SLICE_LIT("-5000000000"), &DEFAULTS)); /* 64 bits, first */
    assert_true(set_add(&s, SLICE_LIT("9223372036854775807"), &DEFAULTS));
    assert_true(set_add(&s, SLICE_LIT("-9223372036854775808"), &DEFAULTS));
    assert_true(set_memory(&s) > w16);
    assert_int_equal(s.enc, OBJ_ENC_INTSET);
    assert_true(set_validate(&s));
    const long long want[] = {LLONG_MIN, -5000000000LL, -3, 5, 100000, LLONG_MAX};
    struct set_iter it;
    struct lp_value v;
    size_t i = 0;
    set_iter_init(&it, &s);
    while (set_iter_next(&it, &v))
        assert_int_equal(v.ll, want[i++]);
    set_iter_deinit(&it);
    assert_int_equal(i, 6);
    /* Integers and their canonical text are one member; other text is not
     * an integer at all. */
    assert_true(set_contains(&s, SLICE_LIT("-3")));
    assert_false(set_contains(&s, SLICE_LIT("+5")));
    assert_false(set_contains(&s, SLICE_LIT("05")));
    assert_false(set_contains(&s, SLICE_LIT("1000000")));
    assert_true(set_remove(&s, SLICE_LIT("-5000000000")));
    assert_false(set_remove(&s, SLICE_LIT("-5000000000")));
    assert_false(set_remove(&s, SLICE_LIT("abc")));
    assert_int_equal(set_size(&s), 5);
    assert_true(set_validate(&s));
    set_deinit(&s);
}

static void test_conversions(void **state)
{
    (void)state;
    struct set_limits lim = {4, 3, 5};
    struct set s;
    /* intset -> listpack on a string. */
    set_init(&s);
    set_add(&s, SLICE_LIT("1"), &lim);
    set_add(&s, SLICE_LIT("2"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_INTSET);
    assert_true(set_add(&s, SLICE_LIT("ab"), &lim));
    assert_int_equal(s.enc, OBJ_ENC_LISTPACK);
    assert_int_equal(set_reported_enc(&s), OBJ_ENC_HT);
    assert_true(set_contains(&s, SLICE_LIT("1")));
    assert_false(set_add(&s, SLICE_LIT("2"), &lim));
    /* listpack -> table past the entry limit. */
    assert_true(set_add(&s, SLICE_LIT("3"), &lim));
    assert_int_equal(s.enc, OBJ_ENC_HT);
    assert_int_equal(set_size(&s), 4);
    assert_true(set_contains(&s, SLICE_LIT("ab")));
    assert_true(set_contains(&s, SLICE_LIT("3")));
    set_deinit(&s);

    /* listpack -> table past the value limit. */
    set_init_for(&s, SLICE_LIT("a"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_LISTPACK);
    set_add(&s, SLICE_LIT("a"), &lim);
    assert_true(set_add(&s, SLICE_LIT("abcdef"), &lim));
    assert_int_equal(s.enc, OBJ_ENC_HT);
    set_deinit(&s);

    /* intset -> table past the intset limit (too many for a listpack). */
    set_init(&s);
    for (int i = 0; i < 4; i++) {
        char buf[8];
        int n = snprintf(buf, sizeof(buf), "%d", i);
        set_add(&s, (struct slice){buf, (size_t)n}, &lim);
    }
    assert_int_equal(s.enc, OBJ_ENC_INTSET);
    set_add(&s, SLICE_LIT("4"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_HT);
    assert_int_equal(set_size(&s), 5);
    set_deinit(&s);

    /* intset -> table when an integer's text is longer than a listpack value. */
    set_init(&s);
    set_add(&s, SLICE_LIT("123456"), &lim);
    set_add(&s, SLICE_LIT("x"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_HT);
    set_deinit(&s);

    /* The first member picks the form; a long one starts a table. */
    set_init_for(&s, SLICE_LIT("12"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_INTSET);
    set_deinit(&s);
    set_init_for(&s, SLICE_LIT("toolong"), &lim);
    assert_int_equal(s.enc, OBJ_ENC_HT);
    set_deinit(&s);
}

static void test_keyspace_entry(void **state)
{
    (void)state;
    struct set s;
    set_init_for(&s, SLICE_LIT("a"), &DEFAULTS);
    set_add(&s, SLICE_LIT("a"), &DEFAULTS);
    set_add(&s, SLICE_LIT("7"), &DEFAULTS);
    struct dict_node *o = set_create_obj(SLICE_LIT("key"), &s);
    assert_int_equal(obj_type(o), OBJ_SET);
    assert_int_equal(obj_enc(o), OBJ_ENC_HT); /* what Redis 7.0 reports */
    struct set back = set_of_obj(o);
    assert_int_equal(back.enc, OBJ_ENC_LISTPACK);
    assert_ptr_equal(back.ptr, s.ptr);
    assert_int_equal(set_container_size(obj_ptr(o), obj_enc(o)), set_memory(&s));
    /* COPY's copier hands back a pointer tagged like the original. */
    void *dup = set_dup_container(obj_ptr(o), obj_enc(o));
    assert_ptr_not_equal(dup, obj_ptr(o));
    struct dict_node *o2 = obj_create_ptr(SLICE_LIT("copy"), OBJ_SET, obj_enc(o), dup, -1);
    struct set copy = set_of_obj(o2);
    assert_int_equal(copy.enc, OBJ_ENC_LISTPACK);
    assert_int_equal(set_size(&copy), 2);
    assert_true(set_contains(&copy, SLICE_LIT("7")) && set_contains(&copy, SLICE_LIT("a")));
    set_free_container(obj_ptr(o2), obj_enc(o2));
    em_free(o2);
    /* Grow into a table and store back. */
    for (int i = 0; i < 200; i++) {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "m%d", i);
        set_add(&back, (struct slice){buf, (size_t)n}, &DEFAULTS);
    }
    set_store_obj(o, &back);
    assert_int_equal(obj_enc(o), OBJ_ENC_HT);
    struct set again = set_of_obj(o);
    assert_int_equal(again.enc, OBJ_ENC_HT);
    assert_int_equal(set_size(&again), 202);
    /* An intset is reported as such. */
    struct set is;
    set_init(&is);
    set_add(&is, SLICE_LIT("1"), &DEFAULTS);
    set_store_obj(o, &is);
    assert_int_equal(obj_enc(o), OBJ_ENC_INTSET);
    set_deinit(&again);
    set_free_container(obj_ptr(o), obj_enc(o));
    em_free(o);
}

struct count_ctx {
    int hits[8];
    size_t calls;
};

static void count_fn(const struct lp_value *v, void *arg)
{
    struct count_ctx *c = arg;
    char buf[UTIL_LL_STR_SIZE];
    struct slice t = text_of(v, buf);
    long long i;
    assert_true(str_to_ll(t.ptr, t.len, &i));
    assert_true(i >= 0 && i < 8);
    c->hits[i]++;
    c->calls++;
}

/* Every form draws every member, roughly uniformly for the packed ones. */
static void test_random_spread(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 42);
    for (int form = 0; form < 3; form++) {
        struct set s;
        set_init(&s);
        for (int i = 0; i < 8; i++) {
            char buf[4];
            int n = snprintf(buf, sizeof(buf), "%d", i);
            set_add(&s, (struct slice){buf, (size_t)n}, &DEFAULTS);
        }
        if (form == 1) {
            struct set_limits lim = {0, 128, 64};
            set_add(&s, SLICE_LIT("8"), &lim); /* past a zero intset limit */
            set_remove(&s, SLICE_LIT("8"));
            assert_int_equal(s.enc, OBJ_ENC_LISTPACK);
        } else if (form == 2) {
            set_convert_to_table(&s);
        }
        struct count_ctx c = {{0}, 0};
        set_random_repeat(&s, &r, 8000, count_fn, &c);
        assert_int_equal(c.calls, 8000);
        /* dict_random() favours members alone in their bucket (it picks a
         * bucket, then a node in it), so a table is only checked for
         * reaching every member. */
        for (int i = 0; i < 8; i++) {
            assert_true(c.hits[i] > 0);
            if (s.enc != OBJ_ENC_HT) assert_true(c.hits[i] > 700 && c.hits[i] < 1300);
        }
        for (int k = 1; k < 8; k++) {
            struct count_ctx d = {{0}, 0};
            set_random_distinct(&s, &r, (size_t)k, count_fn, &d);
            assert_int_equal(d.calls, (size_t)k);
            for (int i = 0; i < 8; i++)
                assert_true(d.hits[i] <= 1);
        }
        set_deinit(&s);
    }
}

/* Distinct draws from a big table take the random-probe path. */
static void test_distinct_from_big_table(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    struct model m = {0};
    m.form = OBJ_ENC_INTSET;
    struct set s;
    set_init(&s);
    for (int i = 0; i < 3000; i++) {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "k%d", i);
        struct slice v = {buf, (size_t)n};
        set_add(&s, v, &DEFAULTS);
        model_add(&m, v, &DEFAULTS);
    }
    for (size_t k = 1; k <= 1000; k += 333) {
        struct walk w;
        walk_init(&w, &m);
        set_random_distinct(&s, &r, k, walk_fn, &w);
        assert_int_equal(w.calls, k);
        for (size_t i = 0; i < m.n; i++)
            assert_true(w.seen[i] <= 1);
        free(w.seen);
    }
    /* Pops until a few remain: the table shrinks and stays consistent. */
    while (set_size(&s) > 3) {
        struct walk w;
        walk_init(&w, &m);
        set_pop_random(&s, &r, walk_fn, &w);
        assert_int_equal(w.calls, 1);
        free(w.seen);
    }
    assert_true(set_validate(&s));
    set_deinit(&s);
    model_clear(&m);
}

/* ---- Random operations against the model ---- */

struct pop_ctx {
    struct model *m;
};

static void pop_fn(const struct lp_value *v, void *arg)
{
    struct pop_ctx *p = arg;
    char buf[UTIL_LL_STR_SIZE];
    assert_true(model_remove(p->m, text_of(v, buf)));
}

static void random_ops(const struct set_limits *lim, uint64_t seed, int steps)
{
    struct rng r;
    rng_seed(&r, seed);
    struct model m = {0};
    struct set s;
    m.form = OBJ_ENC_INTSET;
    set_init(&s);
    char buf[128];
    for (int step = 0; step < steps; step++) {
        struct slice v = random_member(&r, buf, sizeof(buf));
        int op = (int)rng_below(&r, 100);
        if (op < 45) {
            assert_int_equal(set_add(&s, v, lim), model_add(&m, v, lim));
        } else if (op < 65) {
            assert_int_equal(set_remove(&s, v), model_remove(&m, v));
        } else if (op < 80) {
            assert_int_equal(set_contains(&s, v), model_find(&m, v) >= 0);
        } else if (op < 85 && m.n > 0) {
            struct lp_value rv;
            set_random(&s, &r, &rv);
            char b2[UTIL_LL_STR_SIZE];
            assert_true(model_find(&m, text_of(&rv, b2)) >= 0);
        } else if (op < 88 && m.n > 0) {
            struct pop_ctx p = {&m};
            set_pop_random(&s, &r, pop_fn, &p);
        } else if (op < 92 && m.n > 1) {
            size_t k = 1 + (size_t)rng_below(&r, m.n - 1);
            struct walk w;
            walk_init(&w, &m);
            set_random_distinct(&s, &r, k, walk_fn, &w);
            assert_int_equal(w.calls, k);
            for (size_t i = 0; i < m.n; i++)
                assert_true(w.seen[i] <= 1);
            free(w.seen);
        } else if (op < 94 && m.n > 0) {
            struct walk w;
            walk_init(&w, &m);
            set_random_repeat(&s, &r, 1 + (size_t)rng_below(&r, 20), walk_fn, &w);
            free(w.seen);
        } else if (op < 97) {
            /* A full scan reports every member at least once. */
            struct walk w;
            walk_init(&w, &m);
            unsigned long long cur = 0;
            do {
                cur = set_scan(&s, cur, walk_fn, &w);
            } while (cur != 0);
            for (size_t i = 0; i < m.n; i++)
                assert_true(w.seen[i] >= 1);
            free(w.seen);
        } else if (op < 98) {
            struct set copy;
            set_dup(&copy, &s);
            check_equal(&copy, &m);
            set_deinit(&copy);
        } else if (op < 99 && m.n > 0 && rng_below(&r, 4) == 0) {
            /* Empty it and start again, as a deleted key would. */
            set_deinit(&s);
            model_clear(&m);
            m.form = OBJ_ENC_INTSET;
            set_init(&s);
        }
        check_equal(&s, &m);
    }
    set_deinit(&s);
    model_clear(&m);
}

static void test_random_ops_defaults(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        random_ops(&DEFAULTS, seed, 6000);
}

static void test_random_ops_tiny_limits(void **state)
{
    (void)state;
    const struct set_limits lims[] = {{4, 3, 5}, {8, 16, 20}, {0, 0, 0}, {1, 1, 64}, {64, 2, 3}};
    for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
        for (uint64_t seed = 10; seed < 14; seed++)
            random_ops(&lims[i], seed * 31 + i, 1500);
    }
}

static void test_random_ops_big_intset(void **state)
{
    (void)state;
    struct set_limits lim = {100000, 200, 100};
    random_ops(&lim, 99, 8000);
}

int main(void)
{
    uint8_t seed[16] = {1, 2, 3};
    hash_set_seed(seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intset_widths),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_keyspace_entry),
        cmocka_unit_test(test_random_spread),
        cmocka_unit_test(test_distinct_from_big_table),
        cmocka_unit_test(test_random_ops_defaults),
        cmocka_unit_test(test_random_ops_tiny_limits),
        cmocka_unit_test(test_random_ops_big_intset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
