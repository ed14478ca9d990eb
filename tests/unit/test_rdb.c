/* test_rdb.c: the RDB codec. A seeded random keyspace of every type and
 * encoding (with and without deadlines) is written, read back into another
 * keyspace and compared key by key; the CRC64 matches Redis's test vector;
 * corrupt and truncated images are refused without crashing. */
#include "ember/config.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/rdb.h"
#include "ember/server.h"
#include "ember/set.h"
#include "ember/util.h"
#include "ember/zset.h"

#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h and stddef.h first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#define T0       1700000000000LL
#define DB_COUNT 4

static struct keyspace ka, kb;

static int setup(void **state)
{
    (void)state;
    static bool once;
    if (!once) {
        static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        hash_set_seed(seed);
        config_init(&server.cfg);
        t_list_setup();
        t_set_setup();
        t_hash_setup();
        t_zset_setup();
        once = true;
    }
    keyspace_init(&ka, DB_COUNT, 1);
    keyspace_init(&kb, DB_COUNT, 2);
    clock_freeze(T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    keyspace_deinit(&ka);
    keyspace_deinit(&kb);
    clock_unfreeze();
    return 0;
}

/* ---- A canonical text of a value, to compare two keyspaces ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len++] = '\x01';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Members of unordered types are sorted first. */
static void sb_add_sorted(struct sbuf *b, char **items, size_t n)
{
    qsort(items, n, sizeof(*items), cmp_str);
    for (size_t i = 0; i < n; i++) {
        sb_add(b, items[i], strlen(items[i]));
        free(items[i]);
    }
    free(items);
}

static char *dup_slice(struct slice s)
{
    char *p = malloc(s.len + 1);
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static char *canon(struct dict_node *o)
{
    struct sbuf b = {0};
    char num[UTIL_LL_STR_SIZE];
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%d:%lld", (int)obj_type(o), obj_expire(o));
    sb_add(&b, tmp, strlen(tmp));
    switch (obj_type(o)) {
    case OBJ_STRING: {
        struct slice s = obj_string(o, num);
        sb_add(&b, s.ptr, s.len);
        break;
    }
    case OBJ_LIST: {
        struct list_iter it;
        struct lp_value v;
        list_iter_init(&it, obj_ptr(o), 0, true);
        while (list_iter_next(&it, &v)) {
            struct slice s = lp_value_slice(&v, num);
            sb_add(&b, s.ptr, s.len);
        }
        break;
    }
    case OBJ_SET: {
        struct set s = set_of_obj(o);
        size_t n = set_size(&s), i = 0;
        char **items = malloc(sizeof(char *) * (n + 1));
        struct set_iter it;
        struct lp_value v;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &v))
            items[i++] = dup_slice(lp_value_slice(&v, num));
        set_iter_deinit(&it);
        assert_int_equal(i, n);
        snprintf(tmp, sizeof(tmp), "n=%zu", n);
        sb_add(&b, tmp, strlen(tmp));
        sb_add_sorted(&b, items, n);
        break;
    }
    case OBJ_HASH: {
        struct hash h = {obj_ptr(o), obj_enc(o)};
        size_t n = hash_len(&h), i = 0;
        char **items = malloc(sizeof(char *) * (n + 1));
        struct hash_iter it;
        struct slice f, v;
        hash_iter_init(&it, &h);
        while (hash_iter_next(&it, &f, &v)) {
            char *p = malloc(f.len + v.len + 2);
            memcpy(p, f.ptr, f.len);
            p[f.len] = '=';
            memcpy(p + f.len + 1, v.ptr, v.len);
            p[f.len + v.len + 1] = '\0';
            items[i++] = p;
        }
        hash_iter_deinit(&it);
        assert_int_equal(i, n);
        sb_add_sorted(&b, items, n);
        break;
    }
    case OBJ_ZSET: {
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, obj_ptr(o), 0, false);
        while (zset_iter_next(&it, &m, &score)) {
            sb_add(&b, m.ptr, m.len);
            snprintf(tmp, sizeof(tmp), "%.17g", score);
            sb_add(&b, tmp, strlen(tmp));
        }
        break;
    }
    default:
        fail();
    }
    sb_add(&b, "", 0);
    b.p[b.len - 1] = '\0';
    return b.p;
}

/* ---- Filling a keyspace at random ---- */

static struct slice rand_member(struct rng *r, char *buf, size_t cap)
{
    switch (rng_below(r, 4)) {
    case 0: /* a small integer */
        return (struct slice){buf,
                              (size_t)ll_to_str(buf, cap, (long long)rng_below(r, 2000) - 1000)};
    case 1: /* a large integer */
        return (struct slice){buf, (size_t)ll_to_str(buf, cap, (long long)rng_next(r))};
    default: {
        size_t n = rng_below(r, 3) == 0 ? rng_below(r, 200) : rng_below(r, 12);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(2 + rng_below(r, 254)); /* no NUL or \x01: canon() */
        return (struct slice){buf, n};
    }
    }
}

static void fill(struct keyspace *ks, uint64_t seed, int nkeys)
{
    struct rng r;
    rng_seed(&r, seed);
    struct set_limits sl = {512, 128, 64};
    struct hash_limits hl = {128, 64};
    struct zset_limits zl = {128, 64};
    for (int k = 0; k < nkeys; k++) {
        char kb_[32], mb[256], vb[256];
        struct slice key = {kb_, (size_t)snprintf(kb_, sizeof(kb_), "key:%d", k)};
        struct db *db = &ks->dbs[rng_below(&r, DB_COUNT)];
        long long expire = -1;
        uint64_t e = rng_below(&r, 4);
        if (e == 0) expire = T0 + 1 + (long long)rng_below(&r, 100000);
        if (e == 1 && rng_below(&r, 4) == 0) expire = T0 - 1000; /* already expired */
        size_t n = rng_below(&r, 3) == 0 ? 1 + rng_below(&r, 600) : 1 + rng_below(&r, 10);
        struct dict_node *o = NULL;
        switch (rng_below(&r, 5)) {
        case 0:
            o = obj_create_string(key, rand_member(&r, mb, sizeof(mb)), expire);
            break;
        case 1: {
            struct list *l = list_create();
            for (size_t i = 0; i < n; i++)
                list_push(&l, rand_member(&r, mb, sizeof(mb)), LIST_TAIL, LIST_FILL_DEFAULT);
            o = obj_create_ptr(key, OBJ_LIST, OBJ_ENC_QUICKLIST, l, expire);
            break;
        }
        case 2: {
            struct set s;
            set_init(&s);
            bool ints = rng_below(&r, 2) == 0;
            for (size_t i = 0; i < n; i++) {
                struct slice m =
                    ints ? (struct slice){mb, (size_t)ll_to_str(mb, sizeof(mb),
                                                                (long long)rng_next(&r))}
                         : rand_member(&r, mb, sizeof(mb));
                set_add(&s, m, &sl);
            }
            o = set_create_obj(key, &s);
            if (expire >= 0) o = obj_with_expire(o, expire);
            break;
        }
        case 3: {
            struct hash h;
            hash_init(&h);
            for (size_t i = 0; i < n; i++) {
                struct slice f = rand_member(&r, mb, sizeof(mb));
                struct slice v = rand_member(&r, vb, sizeof(vb));
                struct slice args[2] = {f, v};
                hash_prepare_write(&h, args, 2, &hl);
                hash_set(&h, f, v, &hl);
            }
            o = obj_create_ptr(key, OBJ_HASH, h.enc, h.ptr, expire);
            break;
        }
        default: {
            struct zset *z = zset_create(true);
            for (size_t i = 0; i < n; i++) {
                double sc = rng_below(&r, 10) == 0 ? (rng_below(&r, 2) ? INFINITY : -INFINITY)
                                                   : ((double)rng_next(&r) / 1e15 - 9000.0);
                zset_add(&z, rand_member(&r, mb, sizeof(mb)), sc, 0, &zl, NULL);
            }
            o = obj_create_ptr(key, OBJ_ZSET,
                               zset_is_packed(z) ? OBJ_ENC_LISTPACK : OBJ_ENC_SKIPLIST, z, expire);
            break;
        }
        }
        struct db_ref ref;
        assert_null(db_find(db, key, &ref));
        db_insert(db, &ref, o);
    }
}

/* Every live key of `a` is in `b` with the same value and deadline, and
 * `b` holds nothing else. */
static void assert_same(struct keyspace *a, struct keyspace *b)
{
    for (int i = 0; i < DB_COUNT; i++) {
        size_t live = 0;
        struct dict_iter it;
        struct dict_node *n;
        dict_iter_init(&it, &a->dbs[i].dict);
        while ((n = dict_iter_next(&it)) != NULL) {
            if (db_is_expired(n, T0)) continue;
            live++;
            struct dict_node *m = db_peek(&b->dbs[i], dict_node_key(n));
            assert_non_null(m);
            char *x = canon(n), *y = canon(m);
            assert_string_equal(x, y);
            free(x);
            free(y);
        }
        dict_iter_deinit(&it);
        assert_int_equal(live, dict_size(&b->dbs[i].dict));
    }
}

/* ---- Tests ---- */

static void test_crc64_vector(void **state)
{
    (void)state;
    assert_true(rdb_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    /* Split input gives the same result. */
    const char *s = "hello world, this is a longer input for slicing";
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++)
        assert_true(rdb_crc64(rdb_crc64(0, s, cut), s + cut, n - cut) == rdb_crc64(0, s, n));
}

static void test_round_trip_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        keyspace_deinit(&ka);
        keyspace_deinit(&kb);
        keyspace_init(&ka, DB_COUNT, 1);
        keyspace_init(&kb, DB_COUNT, 2);
        fill(&ka, seed, 150);
        struct rdb_out out = {0};
        assert_int_equal(rdb_save(&out, &ka, T0), 0);
        char err[256] = "";
        long long n = rdb_load(&kb, out.buf, out.len, T0, err, sizeof(err));
        if (n < 0) fail_msg("load failed: %s", err);
        assert_same(&ka, &kb);
        /* Writing what was read gives an image that reads back the same. */
        struct rdb_out out2 = {0};
        assert_int_equal(rdb_save(&out2, &kb, T0), 0);
        keyspace_deinit(&ka);
        keyspace_init(&ka, DB_COUNT, 1);
        assert_int_equal(rdb_load(&ka, out2.buf, out2.len, T0, err, sizeof(err)), n);
        assert_same(&kb, &ka);
        rdb_out_free(&out);
        rdb_out_free(&out2);
    }
}

static void test_expired_dropped_on_load(void **state)
{
    (void)state;
    struct slice k = {"k", 1}, v = {"v", 1};
    struct db_ref ref;
    db_find(&ka.dbs[0], k, &ref);
    db_insert(&ka.dbs[0], &ref, obj_create_string(k, v, T0 + 500));
    struct rdb_out out = {0};
    assert_int_equal(rdb_save(&out, &ka, T0), 0);
    char err[256];
    assert_int_equal(rdb_load(&kb, out.buf, out.len, T0 + 1000, err, sizeof(err)), 0);
    assert_int_equal(dict_size(&kb.dbs[0].dict), 0);
    assert_int_equal(rdb_load(&kb, out.buf, out.len, T0, err, sizeof(err)), 1);
    struct dict_node *o = db_peek(&kb.dbs[0], k);
    assert_non_null(o);
    assert_int_equal(obj_expire(o), T0 + 500);
    assert_int_equal(kb.dbs[0].volatile_count, 1);
    rdb_out_free(&out);
}

static void test_corrupt_and_truncated(void **state)
{
    (void)state;
    fill(&ka, 99, 6);
    struct rdb_out out = {0};
    assert_int_equal(rdb_save(&out, &ka, T0), 0);
    char err[256];
    /* Every prefix is refused. */
    for (size_t len = 0; len < out.len; len += len < 64 ? 1 : 7) {
        struct keyspace k;
        keyspace_init(&k, DB_COUNT, 3);
        assert_true(rdb_load(&k, out.buf, len, T0, err, sizeof(err)) < 0);
        keyspace_deinit(&k);
    }
    /* A flipped byte is caught (by the checksum if nothing else). */
    struct rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < 60; i++) {
        uint8_t *copy = malloc(out.len);
        memcpy(copy, out.buf, out.len);
        size_t at = 9 + rng_below(&r, out.len - 9);
        copy[at] ^= (uint8_t)(1 + rng_below(&r, 255));
        struct keyspace k;
        keyspace_init(&k, DB_COUNT, 3);
        assert_true(rdb_load(&k, copy, out.len, T0, err, sizeof(err)) < 0);
        keyspace_deinit(&k);
        free(copy);
    }
    /* A wrong signature. */
    assert_true(rdb_load(&kb, (const uint8_t *)"RUBBISH0010", 11, T0, err, sizeof(err)) < 0);
    assert_string_equal(err, "Wrong signature trying to load DB from file");
    rdb_out_free(&out);
}

/* Strings of every shape (random, runs, repeats with long periods) through
 * a compressed save: they load back the same, and repetitive data shrinks. */
static void test_lzf_round_trip(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 11);
    static char buf[20000];
    for (int k = 0; k < 300; k++) {
        size_t n = k < 40 ? (size_t)k : 1 + rng_below(&r, sizeof(buf));
        int shape = (int)rng_below(&r, 4);
        size_t period = 1 + rng_below(&r, 9000);
        for (size_t i = 0; i < n; i++) {
            if (shape == 0)
                buf[i] = (char)rng_below(&r, 256);
            else if (shape == 1)
                buf[i] = (char)('a' + (i / 300) % 3);
            else if (shape == 2 && i >= period)
                buf[i] = buf[i - period];
            else
                buf[i] = (char)('a' + rng_below(&r, 4));
        }
        char kbuf[32];
        struct slice key = {kbuf, (size_t)snprintf(kbuf, sizeof(kbuf), "s%d", k)};
        struct db_ref ref;
        db_find(&ka.dbs[0], key, &ref);
        db_insert(&ka.dbs[0], &ref, obj_create_string(key, (struct slice){buf, n}, -1));
    }
    struct rdb_out packed = {.compress = true}, plain = {0};
    assert_int_equal(rdb_save(&packed, &ka, T0), 0);
    assert_int_equal(rdb_save(&plain, &ka, T0), 0);
    assert_true(packed.len < plain.len * 3 / 4);
    char err[256] = "";
    long long n = rdb_load(&kb, packed.buf, packed.len, T0, err, sizeof(err));
    if (n < 0) fail_msg("load failed: %s", err);
    assert_int_equal(n, 300);
    assert_same(&ka, &kb);
    rdb_out_free(&packed);
    rdb_out_free(&plain);
}

/* rdbchecksum no: a zero checksum, which the reader accepts. */
static void test_no_checksum(void **state)
{
    (void)state;
    fill(&ka, 5, 40);
    struct rdb_out out = {.no_crc = true};
    assert_int_equal(rdb_save(&out, &ka, T0), 0);
    static const uint8_t zero[8] = {0};
    assert_memory_equal(out.buf + out.len - 8, zero, 8);
    char err[256] = "";
    assert_true(rdb_load(&kb, out.buf, out.len, T0, err, sizeof(err)) >= 0);
    assert_same(&ka, &kb);
    rdb_out_free(&out);
}

/* Every value DUMPs and RESTOREs to the same value (the deadline is not in
 * the payload); damaged payloads are refused with the right status. */
static void test_dump_restore(void **state)
{
    (void)state;
    fill(&ka, 21, 200);
    for (int i = 0; i < DB_COUNT; i++) {
        struct dict_iter it;
        struct dict_node *n;
        dict_iter_init(&it, &ka.dbs[i].dict);
        while ((n = dict_iter_next(&it)) != NULL) {
            struct rdb_out out = {.compress = (i & 1) != 0};
            rdb_dump_value(&out, n);
            struct dict_node *o;
            assert_int_equal(rdb_restore_value(out.buf, out.len, dict_node_key(n), &o), 0);
            if (obj_expire(n) >= 0) o = obj_with_expire(o, obj_expire(n));
            char *x = canon(n), *y = canon(o);
            assert_string_equal(x, y);
            free(x);
            free(y);
            obj_destroy(o);
            /* A flipped bit anywhere fails the checksum (or the version). */
            size_t at = out.len / 2;
            out.buf[at] ^= 0x10;
            assert_int_equal(rdb_restore_value(out.buf, out.len, dict_node_key(n), &o),
                             RDB_BAD_PAYLOAD);
            assert_null(o);
            rdb_out_free(&out);
        }
        dict_iter_deinit(&it);
    }
    struct dict_node *o;
    struct slice key = {"k", 1};
    assert_int_equal(rdb_restore_value((const uint8_t *)"short", 5, key, &o), RDB_BAD_PAYLOAD);
    /* Version 11 with a right checksum: still refused. */
    uint8_t p[3 + 2 + 8] = {0, 1, 'x', 11, 0};
    uint64_t crc = rdb_crc64(0, p, 5);
    for (int k = 0; k < 8; k++)
        p[5 + k] = (uint8_t)(crc >> (8 * k));
    assert_int_equal(rdb_restore_value(p, sizeof(p), key, &o), RDB_BAD_PAYLOAD);
    p[3] = 10;
    crc = rdb_crc64(0, p, 5);
    for (int k = 0; k < 8; k++)
        p[5 + k] = (uint8_t)(crc >> (8 * k));
    assert_int_equal(rdb_restore_value(p, sizeof(p), key, &o), 0);
    obj_destroy(o);
    /* A valid footer around an opcode, an empty set, a cut value. */
    static const uint8_t bodies[][3] = {{255, 0, 0}, {2, 0, 0}, {1, 5, 1}};
    for (size_t b = 0; b < 3; b++) {
        assert_int_equal(rdb_parse_value(bodies[b], 3, key, &o), RDB_BAD_DATA);
        assert_null(o);
    }
}

/* Redis 2.x's zipmap hashes still load (with free bytes after a value, and
 * a field of the 5-byte length form); a cut or unterminated one does not. */
static void test_zipmap(void **state)
{
    (void)state;
    static uint8_t blob[400];
    size_t n = 0;
    blob[n++] = 3; /* count */
    const char *pairs[][2] = {{"f1", "v1"}, {"fld", "value"}};
    for (int i = 0; i < 2; i++) {
        blob[n++] = (uint8_t)strlen(pairs[i][0]);
        memcpy(blob + n, pairs[i][0], strlen(pairs[i][0]));
        n += strlen(pairs[i][0]);
        blob[n++] = (uint8_t)strlen(pairs[i][1]);
        blob[n++] = (uint8_t)i; /* free bytes after the value */
        memcpy(blob + n, pairs[i][1], strlen(pairs[i][1]));
        n += strlen(pairs[i][1]) + (size_t)i;
    }
    char longf[300];
    memset(longf, 'x', sizeof(longf));
    blob[n++] = 254;
    blob[n++] = (uint8_t)(sizeof(longf) & 0xff);
    blob[n++] = (uint8_t)(sizeof(longf) >> 8);
    blob[n++] = 0;
    blob[n++] = 0;
    memcpy(blob + n, longf, sizeof(longf));
    n += sizeof(longf);
    blob[n++] = 1;
    blob[n++] = 0;
    blob[n++] = 'z';
    blob[n++] = 0xff;
    /* type 9, then the blob as an RDB string (14-bit length) */
    static uint8_t body[512];
    body[0] = 9;
    body[1] = (uint8_t)(0x40 | (n >> 8));
    body[2] = (uint8_t)n;
    memcpy(body + 3, blob, n);
    struct slice key = {"h", 1};
    struct dict_node *o;
    assert_int_equal(rdb_parse_value(body, n + 3, key, &o), 0);
    assert_int_equal(obj_type(o), OBJ_HASH);
    struct hash h = {obj_ptr(o), obj_enc(o)};
    assert_int_equal(hash_len(&h), 3);
    char *c = canon(o);
    assert_non_null(strstr(c, "value"));
    assert_non_null(strstr(c, "fld"));
    free(c);
    obj_destroy(o);
    /* Cut anywhere, or without its end byte: refused. */
    for (size_t cut = 1; cut < n; cut += 7) {
        body[1] = (uint8_t)(0x40 | (cut >> 8));
        body[2] = (uint8_t)cut;
        assert_int_equal(rdb_parse_value(body, cut + 3, key, &o), RDB_BAD_DATA);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc64_vector),
        cmocka_unit_test_setup_teardown(test_round_trip_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_dropped_on_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lzf_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zipmap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
