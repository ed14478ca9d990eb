/* test_hash.c: the hash container against a plain model.
 *
 * Fixed cases pin the encodings: a listpack until max_entries fields or a
 * field/value longer than max_value, then a table for good; integers read
 * back as text; shared field lists (shapes) made on the second sighting of
 * a field list, used by every hash with that list, and freed with the last
 * of them. A seeded loop then runs random sets, deletes, lookups, copies
 * and random picks on a few hashes that draw their fields from one small
 * pool (so field lists repeat and shapes come and go), with limits small
 * enough that hashes convert, and checks every hash against an ordered list
 * of pairs after each step: same length, same values, the listpack in
 * insertion order, a full scan visiting every field. */
#include "ember/hash.h"
#include "ember/listpack.h"
#include "ember/mem.h"
#include "ember/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- The model: pairs in insertion order ---- */

struct pair {
    char *f, *v;
    size_t flen, vlen;
};

struct model {
    struct pair *v;
    size_t n, cap;
};

static char *dup_bytes(struct slice s)
{
    char *p = malloc(s.len + 1);
    if (s.len > 0) memcpy(p, s.ptr, s.len);
    return p;
}

static long model_find(const struct model *m, struct slice f)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i].flen == f.len && memcmp(m->v[i].f, f.ptr, f.len) == 0) return (long)i;
    }
    return -1;
}

/* Returns true if the field is new. */
static bool model_set(struct model *m, struct slice f, struct slice v)
{
    long i = model_find(m, f);
    if (i >= 0) {
        free(m->v[i].v);
        m->v[i].v = dup_bytes(v);
        m->v[i].vlen = v.len;
        return false;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
    }
    m->v[m->n++] = (struct pair){dup_bytes(f), dup_bytes(v), f.len, v.len};
    return true;
}

static bool model_delete(struct model *m, struct slice f)
{
    long i = model_find(m, f);
    if (i < 0) return false;
    free(m->v[i].f);
    free(m->v[i].v);
    memmove(m->v + i, m->v + i + 1, (m->n - (size_t)i - 1) * sizeof(*m->v));
    m->n--;
    return true;
}

static void model_clear(struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].f);
        free(m->v[i].v);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static void model_copy(struct model *dst, const struct model *src)
{
    model_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        model_set(dst, (struct slice){src->v[i].f, src->v[i].flen},
                  (struct slice){src->v[i].v, src->v[i].vlen});
    }
}

static bool slice_is(struct slice s, const char *p, size_t len)
{
    return s.len == len && (len == 0 || memcmp(s.ptr, p, len) == 0);
}

/* Which model pair `pos` is; fails if none. */
static size_t pos_index(struct hash *h, const struct model *m, struct hash_pos pos)
{
    char fbuf[UTIL_LL_STR_SIZE], vbuf[UTIL_LL_STR_SIZE];
    struct slice f = hash_pos_field(h, pos, fbuf);
    struct slice v = hash_pos_value(h, pos, vbuf);
    long i = model_find(m, f);
    assert_true(i >= 0);
    assert_true(slice_is(v, m->v[i].v, m->v[i].vlen));
    return (size_t)i;
}

struct scan_seen {
    const struct model *m;
    unsigned char *seen;
};

static void scan_mark(struct slice f, struct slice v, void *arg)
{
    struct scan_seen *s = arg;
    long i = model_find(s->m, f);
    assert_true(i >= 0);
    assert_true(slice_is(v, s->m->v[i].v, s->m->v[i].vlen));
    s->seen[i] = 1;
}

/* Everything observable about h equals the model. */
static void check_equal(struct hash *h, const struct model *m)
{
    assert_true(hash_validate(h));
    assert_int_equal(hash_len(h), m->n);
    for (size_t i = 0; i < m->n; i++) {
        struct slice v;
        char buf[UTIL_LL_STR_SIZE];
        assert_true(hash_get(h, (struct slice){m->v[i].f, m->v[i].flen}, &v, buf));
        assert_true(slice_is(v, m->v[i].v, m->v[i].vlen));
    }
    /* Iteration: insertion order for listpacks, every pair once for tables. */
    unsigned char *seen = calloc(m->n + 1, 1);
    struct hash_iter it;
    struct slice f, v;
    size_t k = 0;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it, &f, &v)) {
        long i = model_find(m, f);
        assert_true(i >= 0);
        if (h->enc == OBJ_ENC_LISTPACK) assert_int_equal(i, k);
        assert_false(seen[i]);
        seen[i] = 1;
        assert_true(slice_is(v, m->v[i].v, m->v[i].vlen));
        k++;
    }
    hash_iter_deinit(&it);
    assert_int_equal(k, m->n);
    /* A full scan reports every pair at least once. */
    memset(seen, 0, m->n + 1);
    struct scan_seen ss = {m, seen};
    unsigned long long cursor = 0;
    do {
        cursor = hash_scan(h, cursor, scan_mark, &ss);
    } while (cursor != 0);
    for (size_t i = 0; i < m->n; i++)
        assert_true(seen[i]);
    free(seen);
}

static const struct hash_limits default_limits = {128, 64};

static struct slice cstr(const char *s)
{
    return (struct slice){s, strlen(s)};
}

/* ---- Fixed cases ---- */

static void test_basic_listpack(void **state)
{
    (void)state;
    struct hash h;
    hash_init(&h);
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    assert_int_equal(hash_len(&h), 0);
    assert_false(hash_find(&h, cstr("a"), NULL));
    assert_true(hash_set(&h, cstr("a"), cstr("1"), &default_limits));
    assert_true(hash_set(&h, cstr("b"), cstr("two"), &default_limits));
    assert_false(hash_set(&h, cstr("a"), cstr("-9223372036854775808"), &default_limits));
    assert_true(hash_set(&h, cstr("12"), cstr(""), &default_limits));
    assert_int_equal(hash_len(&h), 3);
    struct slice v;
    char buf[UTIL_LL_STR_SIZE];
    assert_true(hash_get(&h, cstr("a"), &v, buf));
    assert_true(slice_is(v, "-9223372036854775808", 20));
    assert_true(hash_get(&h, cstr("12"), &v, buf));
    assert_int_equal(v.len, 0);
    assert_false(hash_get(&h, cstr("012"), &v, buf));
    assert_true(hash_delete(&h, cstr("a")));
    assert_false(hash_delete(&h, cstr("a")));
    assert_int_equal(hash_len(&h), 2);
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    hash_deinit(&h);
}

static void test_convert_on_entries(void **state)
{
    (void)state;
    struct hash_limits lim = {4, 64};
    struct hash h;
    hash_init(&h);
    char f[32];
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        hash_set(&h, cstr(f), cstr("v"), &lim);
    }
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    hash_set(&h, cstr("f0"), cstr("again"), &lim); /* an update adds nothing */
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    hash_set(&h, cstr("f4"), cstr("v"), &lim);
    assert_int_equal(h.enc, OBJ_ENC_HT);
    assert_int_equal(hash_len(&h), 5);
    /* A table stays a table, even when it shrinks back. */
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        assert_true(hash_delete(&h, cstr(f)));
    }
    assert_int_equal(h.enc, OBJ_ENC_HT);
    struct slice v;
    char buf[UTIL_LL_STR_SIZE];
    assert_true(hash_get(&h, cstr("f4"), &v, buf));
    assert_true(slice_is(v, "v", 1));
    hash_deinit(&h);
}

static void test_convert_on_length(void **state)
{
    (void)state;
    struct hash_limits lim = {128, 8};
    struct hash h;
    hash_init(&h);
    hash_set(&h, cstr("f"), cstr("12345678"), &lim);
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    hash_set(&h, cstr("f"), cstr("123456789"), &lim); /* a long value */
    assert_int_equal(h.enc, OBJ_ENC_HT);
    hash_deinit(&h);

    hash_init(&h);
    hash_set(&h, cstr("123456789"), cstr("v"), &lim); /* a long field */
    assert_int_equal(h.enc, OBJ_ENC_HT);
    hash_deinit(&h);

    /* HSET's look-ahead: one long argument converts before any is set. */
    hash_init(&h);
    struct slice args[4] = {cstr("a"), cstr("1"), cstr("b"), cstr("123456789")};
    hash_prepare_write(&h, args, 2, &lim);
    assert_int_equal(h.enc, OBJ_ENC_LISTPACK);
    hash_prepare_write(&h, args, 4, &lim);
    assert_int_equal(h.enc, OBJ_ENC_HT);
    hash_deinit(&h);

    /* max_entries 0: the first field makes a table, as in Redis. */
    struct hash_limits zero = {0, 64};
    hash_init(&h);
    hash_set(&h, cstr("a"), cstr("b"), &zero);
    assert_int_equal(h.enc, OBJ_ENC_HT);
    hash_deinit(&h);
}

static void test_table_value_resize(void **state)
{
    (void)state;
    struct hash_limits lim = {0, 1000};
    struct hash h;
    hash_init(&h);
    static char big[900];
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 50; i++) {
        char f[32];
        snprintf(f, sizeof(f), "field%d", i);
        hash_set(&h, cstr(f), cstr("short"), &lim);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 50; i++) {
            char f[32];
            snprintf(f, sizeof(f), "field%d", i);
            size_t len = (size_t)((i * 37 + round * 101) % 900);
            assert_false(hash_set(&h, cstr(f), (struct slice){big, len}, &lim));
            struct slice v;
            char buf[UTIL_LL_STR_SIZE];
            assert_true(hash_get(&h, cstr(f), &v, buf));
            assert_int_equal(v.len, len);
        }
    }
    assert_int_equal(hash_len(&h), 50);
    assert_true(hash_container_size(h.ptr, h.enc) > 50 * 8);
    hash_deinit(&h);
}

static struct hash make_record(const char *const *fields, size_t n, const char *tag)
{
    struct hash h;
    hash_init(&h);
    for (size_t i = 0; i < n; i++)
        hash_set(&h, cstr(fields[i]), cstr(tag), &default_limits);
    hash_compact(&h); /* as HSET does after its writes */
    return h;
}

static bool is_shaped(const struct hash *h)
{
    return hash_is_shared(h);
}

static void test_shapes(void **state)
{
    (void)state;
    static const char *const fields[] = {"name", "email", "created_at", "country"};
    static const char *const other[] = {"name", "email", "created_at", "city"};
    assert_int_equal(hash_shape_count(), 0);
    hash_teardown();
    assert_int_equal(hash_shape_total(), 0);
    /* Built in one go, the first sighting of the list is remembered and the
     * second makes it a shape. */
    struct hash a = make_record(fields, 4, "alice");
    struct hash b = make_record(fields, 4, "bob");
    struct hash c = make_record(fields, 4, "carol");
    assert_false(is_shaped(&a));
    assert_true(is_shaped(&b));
    assert_true(is_shaped(&c));
    size_t shapes_now = hash_shape_count();
    assert_true(shapes_now >= 1);
    /* Shaped hashes read like plain ones, and take fewer bytes. */
    struct slice v;
    char buf[UTIL_LL_STR_SIZE];
    assert_true(hash_get(&c, cstr("country"), &v, buf));
    assert_true(slice_is(v, "carol", 5));
    assert_true(hash_container_size(c.ptr, c.enc) < hash_container_size(a.ptr, a.enc));
    /* A value update keeps the shape; a field change leaves it. */
    assert_false(hash_set(&c, cstr("email"), cstr("c@example.com"), &default_limits));
    assert_true(is_shaped(&c));
    assert_true(hash_get(&c, cstr("email"), &v, buf));
    assert_true(slice_is(v, "c@example.com", 13));
    assert_true(hash_delete(&c, cstr("country")));
    hash_compact(&c);
    assert_true(hash_set(&c, cstr("city"), cstr("Paris"), &default_limits));
    hash_compact(&c);
    struct hash d = make_record(other, 4, "dave");
    /* c's list {name, email, created_at, city} was seen once: d is the
     * second sighting. */
    assert_true(is_shaped(&d));
    /* A copy shares the shape. */
    struct hash e = {hash_dup_container(b.ptr, b.enc), b.enc};
    assert_true(is_shaped(&e));
    assert_true(hash_get(&e, cstr("name"), &v, buf));
    assert_true(slice_is(v, "bob", 3));
    hash_deinit(&b);
    assert_true(hash_get(&e, cstr("created_at"), &v, buf));
    assert_true(slice_is(v, "bob", 3));
    /* Conversion of a shaped hash to a table keeps every pair. */
    hash_convert_to_table(&e);
    assert_int_equal(hash_len(&e), 4);
    assert_true(hash_get(&e, cstr("email"), &v, buf));
    hash_deinit(&a);
    hash_deinit(&c);
    hash_deinit(&d);
    hash_deinit(&e);
    assert_int_equal(hash_shape_count(), 0);
    hash_teardown();
    assert_int_equal(hash_shape_total(), 0);
}

/* Shapes built one field at a time, as HSET key f v in a loop does: every
 * prefix of the list is shared once two hashes went through it. */
static void test_shapes_incremental(void **state)
{
    (void)state;
    struct hash hs[5];
    char f[32], v[32];
    for (int k = 0; k < 5; k++) {
        hash_init(&hs[k]);
        for (int i = 0; i < 10; i++) {
            snprintf(f, sizeof(f), "attribute-%d", i);
            snprintf(v, sizeof(v), "value-%d-%d", k, i);
            hash_set(&hs[k], cstr(f), cstr(v), &default_limits);
            hash_compact(&hs[k]); /* one HSET per field */
        }
    }
    for (int k = 1; k < 5; k++)
        assert_true(is_shaped(&hs[k]));
    /* While hashes hold every prefix of the list (twice, so each prefix is
     * a shape), a hash that grows field by field moves from shape to shape
     * without unpacking: shaped right after each HSET, before compacting. */
    struct hash prefixes[2][9];
    for (int rep = 0; rep < 2; rep++) {
        for (int n = 2; n <= 10; n++) {
            hash_init(&prefixes[rep][n - 2]);
            for (int i = 0; i < n; i++) {
                snprintf(f, sizeof(f), "attribute-%d", i);
                hash_set(&prefixes[rep][n - 2], cstr(f), cstr("p"), &default_limits);
            }
            hash_compact(&prefixes[rep][n - 2]);
        }
    }
    struct hash extra;
    hash_init(&extra);
    for (int i = 0; i < 10; i++) {
        snprintf(f, sizeof(f), "attribute-%d", i);
        hash_set(&extra, cstr(f), cstr("x"), &default_limits);
        if (i >= 2) assert_true(is_shaped(&extra));
        hash_compact(&extra);
    }
    struct slice last;
    char gbuf[UTIL_LL_STR_SIZE];
    assert_true(hash_get(&extra, cstr("attribute-9"), &last, gbuf));
    assert_true(slice_is(last, "x", 1));
    assert_true(hash_get(&extra, cstr("attribute-0"), &last, gbuf));
    assert_true(slice_is(last, "x", 1));
    hash_deinit(&extra);
    for (int rep = 0; rep < 2; rep++) {
        for (int n = 0; n < 9; n++)
            hash_deinit(&prefixes[rep][n]);
    }
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 10; i++) {
            snprintf(f, sizeof(f), "attribute-%d", i);
            snprintf(v, sizeof(v), "value-%d-%d", k, i);
            struct slice got;
            char buf[UTIL_LL_STR_SIZE];
            assert_true(hash_get(&hs[k], cstr(f), &got, buf));
            assert_true(slice_is(got, v, strlen(v)));
        }
    }
    for (int k = 0; k < 5; k++)
        hash_deinit(&hs[k]);
    assert_int_equal(hash_shape_count(), 0);
    hash_teardown();
    assert_int_equal(hash_shape_total(), 0);
}

/* Records written one after another, field by field: the shorter lists a
 * record passes through are no longer used once it grew, but they stay
 * parked, so the next record moves from shape to shape at every field. The
 * ring of parked shapes is bounded. */
static void test_parked_shapes(void **state)
{
    (void)state;
    struct hash recs[4];
    char f[32];
    for (int k = 0; k < 4; k++) {
        hash_init(&recs[k]);
        for (int i = 0; i < 12; i++) {
            snprintf(f, sizeof(f), "column-%d", i);
            hash_set(&recs[k], cstr(f), cstr("v"), &default_limits);
            if (k >= 2 && i >= 2) assert_true(is_shaped(&recs[k]));
            hash_compact(&recs[k]);
        }
    }
    assert_int_equal(hash_shape_count(), 1);
    assert_true(hash_shape_total() > 1);
    /* Many unused lists: at most 256 stay. */
    for (int n = 0; n < 600; n++) {
        struct hash a, b;
        char g[32];
        snprintf(g, sizeof(g), "unique-field-%d", n);
        for (int rep = 0; rep < 2; rep++) {
            struct hash *x = rep == 0 ? &a : &b;
            hash_init(x);
            hash_set(x, cstr(g), cstr("1"), &default_limits);
            hash_set(x, cstr("common-field"), cstr("2"), &default_limits);
            hash_compact(x);
        }
        assert_true(is_shaped(&b));
        hash_deinit(&a);
        hash_deinit(&b);
    }
    assert_int_equal(hash_shape_count(), 1);
    assert_true(hash_shape_total() <= 1 + 256);
    hash_teardown(); /* frees the unused ones, not the one in use */
    assert_int_equal(hash_shape_total(), 1);
    for (int k = 0; k < 4; k++)
        hash_deinit(&recs[k]);
    hash_teardown();
    assert_int_equal(hash_shape_total(), 0);
}

/* The number in "f<number>". */
static int field_number(struct slice s)
{
    int n = 0;
    for (size_t i = 1; i < s.len; i++)
        n = n * 10 + (s.ptr[i] - '0');
    return n;
}

static void test_random(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    for (int enc = 0; enc < 2; enc++) {
        struct hash h;
        hash_init(&h);
        struct hash_limits lim = {enc == 0 ? 128u : 0u, 64};
        char f[32];
        for (int i = 0; i < 20; i++) {
            snprintf(f, sizeof(f), "f%d", i);
            hash_set(&h, cstr(f), cstr("v"), &lim);
        }
        /* With repetition: every pick is a member; over many, all appear. */
        struct hash_pos picks[2000];
        hash_random_pairs(&h, &r, 2000, picks);
        int counts[20] = {0};
        for (int i = 0; i < 2000; i++) {
            char buf[UTIL_LL_STR_SIZE];
            struct slice s = hash_pos_field(&h, picks[i], buf);
            counts[field_number(s)]++;
        }
        for (int i = 0; i < 20; i++)
            assert_true(counts[i] > 40);
        /* Distinct: n different members, in hash order for listpacks. */
        for (size_t n = 1; n < 20; n++) {
            hash_random_unique(&h, &r, n, picks);
            int seen[20] = {0}, last = -1;
            for (size_t i = 0; i < n; i++) {
                char buf[UTIL_LL_STR_SIZE];
                struct slice s = hash_pos_field(&h, picks[i], buf);
                int idx = field_number(s);
                assert_false(seen[idx]);
                seen[idx] = 1;
                if (enc == 0) assert_true(idx > last);
                last = idx;
            }
        }
        hash_deinit(&h);
    }
}

/* ---- The seeded random walk ---- */

#define NHASH 6
#define POOL  40

static struct slice pool_field(int i, char *buf)
{
    /* Mostly short names; a few integers and one long field. */
    if (i == POOL - 1) {
        memset(buf, 'L', 40);
        return (struct slice){buf, 40};
    }
    if (i % 7 == 3) return (struct slice){buf, (size_t)snprintf(buf, 32, "%d", i * 1000 - 5000)};
    return (struct slice){buf, (size_t)snprintf(buf, 32, "field:%d", i)};
}

static struct slice random_value(struct rng *r, char *buf)
{
    uint64_t kind = rng_below(r, 20);
    if (kind == 0) return (struct slice){buf, (size_t)ll_to_str(buf, 32, (long long)rng_next(r))};
    if (kind < 4)
        return (struct slice){buf, (size_t)ll_to_str(buf, 32, (long long)rng_below(r, 300))};
    if (kind == 4) return (struct slice){buf, 0};
    size_t len = (size_t)rng_below(r, kind == 5 ? 40 : 12); /* sometimes too long */
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rng_below(r, 26));
    return (struct slice){buf, len};
}

static void test_random_ops(void **state)
{
    (void)state;
    int table_steps = 0, packed_steps = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct rng r;
        rng_seed(&r, seed);
        static const struct hash_limits lims[] = {{12, 30}, {24, 30}, {12, 64},
                                                  {24, 20}, {8, 64},  {16, 12}};
        struct hash_limits lim = lims[seed - 1];
        struct hash hs[NHASH];
        struct model ms[NHASH];
        memset(ms, 0, sizeof(ms));
        for (int k = 0; k < NHASH; k++)
            hash_init(&hs[k]);
        int shared_steps = 0;
        for (int step = 0; step < 6000; step++) {
            int k = (int)rng_below(&r, NHASH);
            struct hash *h = &hs[k];
            struct model *m = &ms[k];
            char fb[64], vb[64];
            /* Hashes prefer the low fields, so their lists often agree. */
            int fi = (int)(rng_below(&r, 4) ? rng_below(&r, 8) : rng_below(&r, POOL));
            struct slice f = pool_field(fi, fb);
            uint64_t op = rng_below(&r, 100);
            if (op < 15 && m->n < 8) {
                /* Grow a record by its next field: other records of the
                 * next length may hold the longer shape already. */
                f = pool_field((int)m->n, fb);
            }
            if (op < 45) {
                struct slice v = random_value(&r, vb);
                struct slice args[2] = {f, v};
                hash_prepare_write(h, args, 2, &lim);
                assert_int_equal(hash_set(h, f, v, &lim), model_set(m, f, v));
                if (rng_below(&r, 4) != 0) hash_compact(h);
            } else if (op < 72) {
                assert_int_equal(hash_delete(h, f), model_delete(m, f));
                if (rng_below(&r, 4) != 0) hash_compact(h);
            } else if (op < 82) {
                /* Empty it (a deleted key), or start over from a copy. */
                int src = (int)rng_below(&r, NHASH);
                if (src == k || rng_below(&r, 2) == 0) {
                    /* Start over as a record: the first few pool fields in
                     * order, the way many keys of one kind are written. */
                    hash_deinit(h);
                    hash_init(h);
                    model_clear(m);
                    int nf = (int)rng_below(&r, 8);
                    for (int i = 0; i < nf; i++) {
                        struct slice rf = pool_field(i, fb);
                        struct slice v = random_value(&r, vb);
                        assert_int_equal(hash_set(h, rf, v, &lim), model_set(m, rf, v));
                    }
                    hash_compact(h);
                } else {
                    hash_deinit(h);
                    *h = (struct hash){hash_dup_container(hs[src].ptr, hs[src].enc), hs[src].enc};
                    model_copy(m, &ms[src]);
                }
            } else if (op < 90 && m->n > 0) {
                size_t n = (size_t)rng_below(&r, 2 * m->n) + 1;
                struct hash_pos *picks = malloc(n * sizeof(*picks));
                hash_random_pairs(h, &r, n, picks);
                for (size_t i = 0; i < n; i++)
                    pos_index(h, m, picks[i]);
                free(picks);
            } else if (m->n > 0) {
                size_t n = (size_t)rng_below(&r, m->n) + 1;
                struct hash_pos *picks = malloc(n * sizeof(*picks));
                unsigned char *seen = calloc(m->n, 1);
                hash_random_unique(h, &r, n, picks);
                for (size_t i = 0; i < n; i++) {
                    size_t idx = pos_index(h, m, picks[i]);
                    assert_false(seen[idx]);
                    seen[idx] = 1;
                }
                free(seen);
                free(picks);
            }
            if (h->enc == OBJ_ENC_LISTPACK) assert_true(hash_len(h) <= lim.max_entries);
            /* Every live shape is used by some hash. */
            size_t users = 0;
            for (int j = 0; j < NHASH; j++)
                users += hash_is_shared(&hs[j]);
            if (hash_shape_count() > users) print_message("step %d op %d\n", step, (int)op);
            assert_true(hash_shape_count() <= users);
            shared_steps += hash_is_shared(h);
            table_steps += h->enc == OBJ_ENC_HT;
            packed_steps += h->enc == OBJ_ENC_LISTPACK && !hash_is_shared(h);
            check_equal(h, m);
        }
        assert_true(shared_steps > 100);
        for (int k = 0; k < NHASH; k++) {
            check_equal(&hs[k], &ms[k]);
            hash_deinit(&hs[k]);
            model_clear(&ms[k]);
        }
        assert_int_equal(hash_shape_count(), 0);
        assert_true(hash_shape_total() <= 256);
        hash_teardown();
        assert_int_equal(hash_shape_total(), 0);
    }
    /* The walk went through every form. */
    print_message("%d steps as a table, %d plain\n", table_steps, packed_steps);
    assert_true(table_steps > 1000);
    assert_true(packed_steps > 1000);
}

int main(void)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hash_set_seed(seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_listpack),
        cmocka_unit_test(test_convert_on_entries),
        cmocka_unit_test(test_convert_on_length),
        cmocka_unit_test(test_table_value_resize),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_shapes_incremental),
        cmocka_unit_test(test_parked_shapes),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
