/* test_zset.c: the sorted set container against a sorted array model.
 *
 * Fixed cases check the form changes (a listpack becomes a skip list past
 * either limit and never comes back by itself; zset_shrink_if_fits brings
 * it back), score storage at the edges (-0, infinities, integers beyond
 * 2^53, doubles whose 8 bytes read as digits) and range parsing. A seeded
 * loop then runs ZADD with every flag combination, deletes, rank and score
 * lookups, range walks by rank and score in both directions, counts, range
 * deletes, random picks, scans, copies and conversions under three pairs
 * of limits (always packed until 128, always a skip list, and tiny limits
 * that convert often), checking the invariants and the whole contents
 * after every step. Lexicographic ranges, which are only meaningful when
 * all scores are equal, get their own loop with equal scores. */
#include "ember/mem.h"
#include "ember/util.h"
#include "ember/zset.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- Model: members sorted by (score, bytes) ---- */

struct item {
    char *s;
    size_t len;
    double score;
};

struct model {
    struct item v[4096];
    size_t n;
};

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m > 0 ? memcmp(a, b, m) : 0;
    if (c != 0) return c;
    return al < bl ? -1 : (al > bl ? 1 : 0);
}

static int item_cmp(const struct item *a, double score, struct slice m)
{
    if (a->score < score) return -1;
    if (a->score > score) return 1;
    return bytes_cmp(a->s, a->len, m.ptr, m.len);
}

static long model_find(const struct model *md, struct slice m)
{
    for (size_t i = 0; i < md->n; i++) {
        if (md->v[i].len == m.len && memcmp(md->v[i].s, m.ptr, m.len) == 0) return (long)i;
    }
    return -1;
}

static void model_remove(struct model *md, size_t i)
{
    free(md->v[i].s);
    memmove(&md->v[i], &md->v[i + 1], (md->n - i - 1) * sizeof(md->v[0]));
    md->n--;
}

static void model_insert(struct model *md, struct slice m, double score)
{
    size_t i = 0;
    while (i < md->n && item_cmp(&md->v[i], score, m) < 0)
        i++;
    memmove(&md->v[i + 1], &md->v[i], (md->n - i) * sizeof(md->v[0]));
    md->v[i].s = malloc(m.len + 1);
    if (m.len > 0) memcpy(md->v[i].s, m.ptr, m.len);
    md->v[i].len = m.len;
    md->v[i].score = score;
    md->n++;
}

static void model_clear(struct model *md)
{
    while (md->n > 0)
        model_remove(md, md->n - 1);
}

static size_t model_maxlen(const struct model *md, size_t *tot)
{
    size_t max = 0;
    *tot = 0;
    for (size_t i = 0; i < md->n; i++) {
        if (md->v[i].len > max) max = md->v[i].len;
        *tot += md->v[i].len;
    }
    return max;
}

/* Same double, -0 and 0 told apart. */
static bool same_score(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void check_item(const struct item *it, struct slice m, double score)
{
    assert_int_equal(m.len, it->len);
    if (m.len > 0) assert_memory_equal(m.ptr, it->s, m.len);
    assert_true(same_score(score, it->score));
}

/* A listpack keeps no negative zero: once the set is packed, the model's
 * -0 scores read back as 0. */
static void model_sync_form(struct model *md, const struct zset *z)
{
    if (!zset_is_packed(z)) return;
    for (size_t i = 0; i < md->n; i++) {
        if (md->v[i].score == 0) md->v[i].score = 0.0;
    }
}

static void check_all(struct zset *z, struct model *md)
{
    model_sync_form(md, z);
    assert_true(zset_validate(z));
    assert_int_equal(zset_len(z), md->n);
    struct zset_iter it;
    struct slice m;
    double score;
    size_t i = 0;
    zset_iter_rank(&it, z, 0, false);
    while (zset_iter_next(&it, &m, &score))
        check_item(&md->v[i++], m, score);
    assert_int_equal(i, md->n);
    zset_iter_rank(&it, z, 0, true);
    while (zset_iter_next(&it, &m, &score))
        check_item(&md->v[--i], m, score);
    assert_int_equal(i, 0);
}

/* ---- Generators ---- */

static const double score_pool[] = {
    0,
    -0.0,
    1,
    2,
    3,
    -1,
    1.5,
    0.1,
    2.5,
    1e308,
    -1e308,
    INFINITY,
    -INFINITY,
    4503599627370496.0,
    9007199254740993.0,
    1152921504606846976.0,
    9223372036854775808.0,
    -9223372036854775808.0,
    1e-300,
    5e-324,
};
#define SCORE_POOL_LEN (sizeof(score_pool) / sizeof(score_pool[0]))

static double digits_double(void)
{
    double d;
    memcpy(&d, "12345678", 8); /* these 8 bytes read as an integer */
    return d;
}

static double random_score(struct rng *r)
{
    switch (rng_below(r, 8)) {
    case 0:
        return score_pool[rng_below(r, SCORE_POOL_LEN)];
    case 1:
        return digits_double();
    case 2:
        return (double)((long long)rng_below(r, 2000) - 1000) / 8;
    default:
        return (double)rng_below(r, 20);
    }
}

/* Members from a small alphabet so they collide; some read as integers,
 * one is empty, a few are long (past a small max_value). */
static struct slice random_member(struct rng *r, char *buf)
{
    static const char *fixed[] = {"",
                                  "0",
                                  "-7",
                                  "12",
                                  "007",
                                  "+1",
                                  "a\0b",
                                  "9223372036854775807",
                                  "-9223372036854775808",
                                  "9223372036854775808"};
    static const size_t fixed_len[] = {0, 1, 2, 2, 3, 2, 3, 19, 20, 19};
    uint64_t k = rng_below(r, 12);
    if (k < 10 && rng_below(r, 4) == 0) return (struct slice){fixed[k], fixed_len[k]};
    size_t len = 1 + rng_below(r, 3);
    if (rng_below(r, 30) == 0) len = 20 + rng_below(r, 60);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rng_below(r, i == 0 ? 26 : 4));
    return (struct slice){buf, len};
}

/* ---- Fixed cases ---- */

static const struct zset_limits default_limits = {128, 64};

static void test_listpack_then_skiplist(void **state)
{
    (void)state;
    struct zset *z = zset_create(true);
    char buf[32];
    for (int i = 0; i < 128; i++) {
        int n = snprintf(buf, sizeof(buf), "m%d", i);
        assert_int_equal(zset_add(&z, (struct slice){buf, (size_t)n}, i, 0, &default_limits, NULL),
                         ZSET_ADDED);
    }
    assert_true(zset_is_packed(z));
    assert_int_equal(zset_add(&z, SLICE_LIT("m0"), 5, 0, &default_limits, NULL), ZSET_UPDATED);
    assert_true(zset_is_packed(z));
    assert_int_equal(zset_add(&z, SLICE_LIT("one more"), 1, 0, &default_limits, NULL), ZSET_ADDED);
    assert_false(zset_is_packed(z));
    assert_int_equal(zset_len(z), 129);
    assert_true(zset_validate(z));
    /* Deleting does not bring the listpack back; a STORE's check does. */
    assert_true(zset_delete(&z, SLICE_LIT("one more")));
    assert_false(zset_is_packed(z));
    zset_shrink_if_fits(&z, &default_limits, 4, 500);
    assert_true(zset_is_packed(z));
    assert_true(zset_validate(z));
    double s;
    assert_true(zset_score(z, SLICE_LIT("m0"), &s));
    assert_true(s == 5);
    zset_destroy(z);

    /* A long member converts at once. */
    z = zset_create(true);
    char big[65];
    memset(big, 'x', sizeof(big));
    assert_int_equal(zset_add(&z, (struct slice){big, 64}, 1, 0, &default_limits, NULL),
                     ZSET_ADDED);
    assert_true(zset_is_packed(z));
    assert_int_equal(zset_add(&z, (struct slice){big, 65}, 1, 0, &default_limits, NULL),
                     ZSET_ADDED);
    assert_false(zset_is_packed(z));
    zset_destroy(z);
}

static void test_score_edges(void **state)
{
    (void)state;
    const double scores[] = {-0.0,
                             0.0,
                             INFINITY,
                             -INFINITY,
                             1e308,
                             0.1,
                             9007199254740993.0,
                             -9223372036854775808.0,
                             9223372036854775808.0,
                             5e-324,
                             0.5,
                             -2.25,
                             1234.5,
                             0.015625,
                             1e+300};
    for (int form = 0; form < 2; form++) {
        struct zset *z = zset_create(form == 0);
        char buf[8];
        for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
            buf[0] = (char)('a' + i);
            assert_int_equal(
                zset_add(&z, (struct slice){buf, 1}, scores[i], 0, &default_limits, NULL),
                ZSET_ADDED);
        }
        assert_int_equal(
            zset_add(&z, SLICE_LIT("digits"), digits_double(), 0, &default_limits, NULL),
            ZSET_ADDED);
        for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
            double s;
            buf[0] = (char)('a' + i);
            assert_true(zset_score(z, (struct slice){buf, 1}, &s));
            /* A listpack stores -0 as the integer 0, as Redis's does. */
            double want = form == 0 && scores[i] == 0 ? 0.0 : scores[i];
            assert_true(same_score(s, want));
        }
        double s;
        assert_true(zset_score(z, SLICE_LIT("digits"), &s));
        assert_true(same_score(s, digits_double()));
        /* -0 and 0 are the same score: setting one over the other is no change. */
        assert_int_equal(zset_add(&z, SLICE_LIT("a"), 0.0, 0, &default_limits, NULL),
                         ZSET_UNCHANGED);
        /* inf + -inf is NaN: refused, nothing changes. */
        assert_int_equal(zset_add(&z, SLICE_LIT("c"), -INFINITY, ZSET_INCR, &default_limits, NULL),
                         ZSET_NAN);
        assert_true(zset_score(z, SLICE_LIT("c"), &s) && s == INFINITY);
        assert_true(zset_validate(z));
        zset_destroy(z);
    }
}

static void test_parse_ranges(void **state)
{
    (void)state;
    struct zset_score_range r;
    assert_true(zset_parse_score_range(SLICE_LIT("(1.5"), SLICE_LIT("+inf"), &r));
    assert_true(r.minex && !r.maxex && r.min == 1.5 && r.max == INFINITY);
    assert_true(zset_parse_score_range(SLICE_LIT(" 0x10"), SLICE_LIT("-inf"), &r));
    assert_true(r.min == 16 && r.max == -INFINITY);
    assert_true(zset_parse_score_range(SLICE_LIT(""), SLICE_LIT("("), &r)); /* strtod("") */
    assert_true(r.min == 0 && r.maxex);
    assert_true(zset_parse_score_range(SLICE_LIT("1\0junk"), SLICE_LIT("2"), &r));
    assert_false(zset_parse_score_range(SLICE_LIT("nan"), SLICE_LIT("1"), &r));
    assert_false(zset_parse_score_range(SLICE_LIT("1"), SLICE_LIT("1x"), &r));
    assert_false(zset_parse_score_range(SLICE_LIT("1 "), SLICE_LIT("2"), &r));
    assert_false(zset_parse_score_range(SLICE_LIT("(("), SLICE_LIT("2"), &r));

    struct zset_lex_range l;
    assert_true(zset_parse_lex_range(SLICE_LIT("-"), SLICE_LIT("+"), &l));
    assert_true(l.min.inf == -1 && l.max.inf == 1);
    assert_true(zset_parse_lex_range(SLICE_LIT("[a"), SLICE_LIT("(b"), &l));
    assert_true(!l.min.ex && l.max.ex && l.min.s.len == 1 && l.max.s.ptr[0] == 'b');
    assert_true(zset_parse_lex_range(SLICE_LIT("("), SLICE_LIT("["), &l)); /* empty strings */
    assert_false(zset_parse_lex_range(SLICE_LIT("a"), SLICE_LIT("+"), &l));
    assert_false(zset_parse_lex_range(SLICE_LIT("-a"), SLICE_LIT("+"), &l));
    assert_false(zset_parse_lex_range(SLICE_LIT(""), SLICE_LIT("+"), &l));
    assert_true(zset_parse_lex_range(SLICE_LIT("+\0x"), SLICE_LIT("+"), &l));
}

/* ---- The random walk ---- */

struct walk {
    struct rng *r;
    struct zset **z;
    struct model *md;
    const struct zset_limits *lim;
};

static void check_visit(struct slice m, double score, void *arg)
{
    const struct model *md = arg;
    long i = model_find(md, m);
    assert_true(i >= 0);
    assert_true(same_score(md->v[i].score, score));
}

struct seen {
    const struct model *md;
    unsigned char hit[4096];
};

static void mark_visit(struct slice m, double score, void *arg)
{
    struct seen *s = arg;
    long i = model_find(s->md, m);
    assert_true(i >= 0);
    assert_true(same_score(s->md->v[i].score, score));
    s->hit[i]++;
}

static void op_add(struct walk *w)
{
    static const unsigned flag_sets[] = {0,
                                         ZSET_NX,
                                         ZSET_XX,
                                         ZSET_GT,
                                         ZSET_LT,
                                         ZSET_INCR,
                                         ZSET_XX | ZSET_GT,
                                         ZSET_XX | ZSET_LT,
                                         ZSET_INCR | ZSET_GT,
                                         ZSET_INCR | ZSET_NX,
                                         ZSET_INCR | ZSET_XX | ZSET_LT};
    char buf[128];
    struct slice m = random_member(w->r, buf);
    double score = random_score(w->r);
    unsigned flags = flag_sets[rng_below(w->r, sizeof(flag_sets) / sizeof(flag_sets[0]))];
    long i = model_find(w->md, m);
    enum zset_add_result want;
    double expect = score;
    if (i >= 0) {
        double cur = w->md->v[i].score;
        if (flags & ZSET_NX) {
            want = ZSET_SKIPPED;
        } else {
            if (flags & ZSET_INCR) expect += cur;
            if (isnan(expect)) {
                want = ZSET_NAN;
            } else if (((flags & ZSET_LT) && expect >= cur) ||
                       ((flags & ZSET_GT) && expect <= cur)) {
                want = ZSET_SKIPPED;
            } else {
                want = expect != cur ? ZSET_UPDATED : ZSET_UNCHANGED;
            }
        }
        if (want == ZSET_UNCHANGED) expect = cur;
    } else {
        want = (flags & ZSET_XX) ? ZSET_SKIPPED : ZSET_ADDED;
    }
    double got = 12345;
    assert_int_equal(zset_add(w->z, m, score, flags, w->lim, &got), want);
    if (want == ZSET_ADDED || want == ZSET_UPDATED) {
        if (i >= 0) model_remove(w->md, (size_t)i);
        model_insert(w->md, m, expect);
    }
    if (want == ZSET_ADDED || want == ZSET_UPDATED || want == ZSET_UNCHANGED) {
        assert_true(same_score(got, expect) || (want == ZSET_UNCHANGED && got == expect));
    }
}

static void op_delete(struct walk *w)
{
    char buf[128];
    struct slice m = random_member(w->r, buf);
    long i = model_find(w->md, m);
    assert_int_equal(zset_delete(w->z, m), i >= 0);
    if (i >= 0) model_remove(w->md, (size_t)i);
}

static void op_lookup(struct walk *w)
{
    char buf[128];
    struct slice m = random_member(w->r, buf);
    long i = model_find(w->md, m);
    double s;
    size_t rank;
    assert_int_equal(zset_score(*w->z, m, &s), i >= 0);
    assert_int_equal(zset_rank(*w->z, m, false, &rank), i >= 0);
    if (i < 0) return;
    assert_true(same_score(s, w->md->v[i].score));
    assert_int_equal(rank, (size_t)i);
    assert_true(zset_rank(*w->z, m, true, &rank));
    assert_int_equal(rank, w->md->n - 1 - (size_t)i);
}

static void op_rank_walk(struct walk *w)
{
    size_t n = w->md->n;
    size_t start = (size_t)rng_below(w->r, n + 2);
    bool rev = rng_below(w->r, 2);
    struct zset_iter it;
    struct slice m;
    double s;
    zset_iter_rank(&it, *w->z, start, rev);
    for (size_t k = start; k < start + 5; k++) {
        bool more = zset_iter_next(&it, &m, &s);
        assert_int_equal(more, k < n);
        if (!more) break;
        check_item(&w->md->v[rev ? n - 1 - k : k], m, s);
    }
}

static void random_range(struct rng *r, struct zset_score_range *rg)
{
    rg->min = random_score(r);
    rg->max = rng_below(r, 4) == 0 ? rg->min : random_score(r);
    rg->minex = rng_below(r, 3) == 0;
    rg->maxex = rng_below(r, 3) == 0;
}

static void op_score_range(struct walk *w)
{
    struct zset_score_range rg;
    random_range(w->r, &rg);
    size_t n = w->md->n, count = 0, first = n;
    for (size_t i = 0; i < n; i++) {
        if (zset_score_in_range(w->md->v[i].score, &rg)) {
            if (first == n) first = i;
            count++;
        }
    }
    assert_int_equal(zset_count_score(*w->z, &rg), count);
    bool rev = rng_below(w->r, 2);
    struct zset_iter it;
    struct slice m;
    double s;
    zset_iter_score(&it, *w->z, &rg, rev);
    for (size_t k = 0; k < count; k++) {
        assert_true(zset_iter_next(&it, &m, &s));
        check_item(&w->md->v[rev ? first + count - 1 - k : first + k], m, s);
    }
    if (zset_iter_next(&it, &m, &s)) assert_false(zset_score_in_range(s, &rg));
}

static void op_delete_range(struct walk *w)
{
    size_t n = w->md->n;
    if (n == 0) return;
    if (rng_below(w->r, 2) == 0) {
        size_t a = (size_t)rng_below(w->r, n), b = (size_t)rng_below(w->r, n);
        if (a > b) {
            size_t t = a;
            a = b;
            b = t;
        }
        if (b - a > 4) b = a + (size_t)rng_below(w->r, 4);
        assert_int_equal(zset_delete_rank(w->z, a, b), b - a + 1);
        for (size_t i = a; i <= b; i++)
            model_remove(w->md, a);
        return;
    }
    struct zset_score_range rg;
    random_range(w->r, &rg);
    size_t removed = 0;
    for (size_t i = 0; i < w->md->n;) {
        if (zset_score_in_range(w->md->v[i].score, &rg)) {
            model_remove(w->md, i);
            removed++;
        } else {
            i++;
        }
    }
    assert_int_equal(zset_delete_score(w->z, &rg), removed);
}

static void op_random_and_scan(struct walk *w)
{
    size_t n = w->md->n;
    if (n == 0) return;
    zset_random(*w->z, w->r, 1 + rng_below(w->r, 5), check_visit, w->md);
    struct seen *seen = calloc(1, sizeof(*seen));
    seen->md = w->md;
    size_t want = (size_t)rng_below(w->r, n);
    zset_random_unique(*w->z, w->r, want, mark_visit, seen);
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(seen->hit[i] <= 1);
        got += seen->hit[i];
    }
    assert_int_equal(got, want);
    memset(seen->hit, 0, sizeof(seen->hit));
    unsigned long long cursor = 0;
    do {
        cursor = zset_scan(*w->z, cursor, mark_visit, seen);
    } while (cursor != 0);
    for (size_t i = 0; i < n; i++)
        assert_true(seen->hit[i] >= 1);
    free(seen);
}

static void op_convert(struct walk *w)
{
    switch (rng_below(w->r, 3)) {
    case 0:
        zset_to_skiplist(w->z);
        assert_false(zset_is_packed(*w->z));
        break;
    case 1: {
        size_t tot, max = model_maxlen(w->md, &tot);
        bool was = zset_is_packed(*w->z);
        zset_shrink_if_fits(w->z, w->lim, max, tot);
        bool fits = w->md->n <= w->lim->max_entries && max <= w->lim->max_value;
        assert_int_equal(zset_is_packed(*w->z), was || fits);
        break;
    }
    default: {
        struct zset *copy = zset_dup(*w->z);
        assert_int_equal(zset_is_packed(copy), zset_is_packed(*w->z));
        zset_destroy(*w->z);
        *w->z = copy;
        break;
    }
    }
}

static void run_walk(const struct zset_limits *lim, uint64_t seed, int steps)
{
    struct rng r;
    rng_seed(&r, seed);
    struct model *md = calloc(1, sizeof(*md));
    struct zset *z = zset_create(lim->max_entries > 0);
    struct walk w = {&r, &z, md, lim};
    for (int step = 0; step < steps; step++) {
        uint64_t op = rng_below(&r, 100);
        if (op < 45) {
            op_add(&w);
        } else if (op < 60) {
            op_delete(&w);
        } else if (op < 70) {
            op_lookup(&w);
        } else if (op < 78) {
            op_rank_walk(&w);
        } else if (op < 88) {
            op_score_range(&w);
        } else if (op < 92) {
            op_delete_range(&w);
        } else if (op < 97) {
            op_random_and_scan(&w);
        } else {
            op_convert(&w);
        }
        check_all(z, md);
        if (md->n > 300 || rng_below(&r, 2000) == 0) {
            /* Start over now and then, as an emptied key would. */
            zset_destroy(z);
            model_clear(md);
            z = zset_create(lim->max_entries > 0);
        }
    }
    zset_destroy(z);
    model_clear(md);
    free(md);
}

static void test_random_ops_packed(void **state)
{
    (void)state;
    run_walk(&default_limits, 1, 40000);
}

static void test_random_ops_skiplist(void **state)
{
    (void)state;
    static const struct zset_limits lim = {0, 0};
    run_walk(&lim, 2, 40000);
}

static void test_random_ops_converting(void **state)
{
    (void)state;
    static const struct zset_limits lim = {8, 16};
    run_walk(&lim, 3, 40000);
}

/* ---- Lexicographic ranges: all scores equal ---- */

static void random_lex_bound(struct rng *r, struct zset_lex_bound *b, char *buf)
{
    b->inf = 0;
    b->ex = rng_below(r, 2);
    switch (rng_below(r, 6)) {
    case 0:
        b->inf = -1;
        b->ex = true;
        b->s = (struct slice){"", 0};
        return;
    case 1:
        b->inf = 1;
        b->ex = true;
        b->s = (struct slice){"", 0};
        return;
    default:
        b->s = random_member(r, buf);
        if (b->s.len > 3) b->s.len = 3;
    }
}

static void run_lex_walk(const struct zset_limits *lim, uint64_t seed, int steps)
{
    struct rng r;
    rng_seed(&r, seed);
    struct model *md = calloc(1, sizeof(*md));
    struct zset *z = zset_create(lim->max_entries > 0);
    for (int step = 0; step < steps; step++) {
        char buf[128], b1[128], b2[128];
        uint64_t op = rng_below(&r, 10);
        if (op < 5) {
            struct slice m = random_member(&r, buf);
            if (zset_add(&z, m, 7, ZSET_NX, lim, NULL) == ZSET_ADDED) model_insert(md, m, 7);
        } else {
            struct zset_lex_range rg;
            random_lex_bound(&r, &rg.min, b1);
            random_lex_bound(&r, &rg.max, b2);
            size_t count = 0, first = md->n;
            for (size_t i = 0; i < md->n; i++) {
                struct slice m = {md->v[i].s, md->v[i].len};
                if (zset_lex_gte_min(m, &rg) && zset_lex_lte_max(m, &rg)) {
                    if (first == md->n) first = i;
                    count++;
                }
            }
            if (op < 9) {
                assert_int_equal(zset_count_lex(z, &rg), count);
                bool rev = rng_below(&r, 2);
                struct zset_iter it;
                struct slice m;
                double s;
                zset_iter_lex(&it, z, &rg, rev);
                for (size_t k = 0; k < count; k++) {
                    assert_true(zset_iter_next(&it, &m, &s));
                    check_item(&md->v[rev ? first + count - 1 - k : first + k], m, s);
                }
            } else {
                assert_int_equal(zset_delete_lex(&z, &rg), count);
                for (size_t k = 0; k < count; k++)
                    model_remove(md, first);
            }
        }
        check_all(z, md);
    }
    zset_destroy(z);
    model_clear(md);
    free(md);
}

static void test_lex_ranges(void **state)
{
    (void)state;
    static const struct zset_limits sl = {0, 0};
    run_lex_walk(&default_limits, 4, 20000);
    run_lex_walk(&sl, 5, 20000);
}

int main(void)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hash_set_seed(seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listpack_then_skiplist),
        cmocka_unit_test(test_score_edges),
        cmocka_unit_test(test_parse_ranges),
        cmocka_unit_test(test_random_ops_packed),
        cmocka_unit_test(test_random_ops_skiplist),
        cmocka_unit_test(test_random_ops_converting),
        cmocka_unit_test(test_lex_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
