/* test_db.c: the keyspace's expiry logic (db.c) under a frozen clock.
 *
 * Every test builds a fresh keyspace with a fixed hash seed and freezes the
 * clock at T0, so deadlines are exact and nothing sleeps. The active expire
 * cycle is driven by hand, as the cron would, and checked through the db's
 * counters and the expired hook: keys with a past deadline must vanish
 * without anyone looking them up, keys without one must never be visited,
 * and the counters (volatile_count, avg_ttl, INFO's stats) must stay true
 * across every way a deadline comes and goes. */
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/object.h"
#include "ember/util.h"

#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h and stddef.h first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define T0        1700000000000LL /* the frozen "now", ms */
#define NO_BUDGET 1000000000LL    /* a time budget no test reaches, us */
#define DB_COUNT  4

struct fixture {
    struct keyspace ks;
    long long expired_calls; /* on_expired hook */
    long long touch_calls;   /* on_touch hook */
};

static void on_expired(struct db *db, struct slice key, void *ctx)
{
    (void)db;
    (void)key;
    ((struct fixture *)ctx)->expired_calls++;
}

static void on_touch(struct db *db, struct slice key, void *ctx)
{
    (void)db;
    (void)key;
    ((struct fixture *)ctx)->touch_calls++;
}

static struct fixture fx;

static int setup(void **state)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hash_set_seed(seed);
    memset(&fx, 0, sizeof(fx));
    keyspace_init(&fx.ks, DB_COUNT, 42);
    fx.ks.on_expired = on_expired;
    fx.ks.on_touch = on_touch;
    fx.ks.hook_ctx = &fx;
    clock_freeze(T0);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    keyspace_deinit(&fx.ks);
    clock_unfreeze();
    return 0;
}

/* ---- Helpers ---- */

static struct slice key_of(char *buf, size_t size, const char *prefix, int i)
{
    int n = snprintf(buf, size, "%s:%d", prefix, i);
    return (struct slice){buf, (size_t)n};
}

/* Sets `key` to a string value with deadline `expire` (-1: none). */
static void set(struct db *db, struct slice key, long long expire)
{
    db_set(db, obj_create_string(key, SLICE_LIT("value"), expire));
}

static void fill(struct db *db, const char *prefix, int n, long long expire)
{
    char buf[64];
    for (int i = 0; i < n; i++) {
        set(db, key_of(buf, sizeof(buf), prefix, i), expire);
    }
}

static struct dict_node *find(struct db *db, struct slice key)
{
    struct db_ref ref;
    return db_find(db, key, &ref);
}

static void set_expire(struct db *db, struct slice key, long long when)
{
    struct db_ref ref;
    struct dict_node *o = db_find(db, key, &ref);
    assert_non_null(o);
    db_set_expire(db, &ref, o, when);
}

static void cycle(struct keyspace *ks, long long budget_us, struct expire_cycle_stats *st)
{
    db_expire_cycle(ks, 1, budget_us, st);
}

/* Finishes any resize, as the cron does between cycles. */
static void rehash_all(struct db *db)
{
    while (dict_rehash(&db->dict, 1000)) {
    }
}

/* ---- Lazy expiry ---- */

static void test_lazy_expiry_on_find(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    set(db, SLICE_LIT("k"), T0 + 100);
    assert_non_null(find(db, SLICE_LIT("k")));

    clock_freeze(T0 + 101);
    assert_int_equal(db_size(db), 1); /* still in the table until looked at */
    assert_null(find(db, SLICE_LIT("k")));
    assert_int_equal(db_size(db), 0);
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(f->ks.stats.expired_keys, 1);
    assert_int_equal(f->expired_calls, 1);
    assert_true(f->touch_calls >= 1); /* WATCH sees the deletion */
}

/* Redis's keyIsExpired: now > deadline. At the deadline itself the key
 * still exists, one millisecond later it is gone. */
static void test_expires_after_deadline_not_at_it(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    set(db, SLICE_LIT("k"), T0 + 50);

    clock_freeze(T0 + 50);
    assert_non_null(find(db, SLICE_LIT("k")));
    assert_non_null(db_peek(db, SLICE_LIT("k")));
    assert_false(db_is_expired(find(db, SLICE_LIT("k")), clock_ms()));

    clock_freeze(T0 + 51);
    assert_null(db_peek(db, SLICE_LIT("k")));
    assert_int_equal(db_size(db), 1); /* peek does not delete */
    assert_int_equal(f->ks.stats.expired_keys, 0);
    assert_null(find(db, SLICE_LIT("k")));
    assert_int_equal(db_size(db), 0);
}

static void test_key_without_ttl_never_expires(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    set(db, SLICE_LIT("k"), -1);
    clock_freeze(T0 + 100LL * 365 * 86400 * 1000); /* a century later */
    assert_non_null(find(db, SLICE_LIT("k")));
    assert_int_equal(obj_expire(find(db, SLICE_LIT("k"))), -1);
}

static void test_delete_of_expired_key_reports_missing(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    set(db, SLICE_LIT("k"), T0 + 10);
    clock_freeze(T0 + 11);
    assert_false(db_delete(db, SLICE_LIT("k")));
    assert_int_equal(db_size(db), 0);
    assert_int_equal(f->ks.stats.expired_keys, 1); /* it expired; DEL found nothing */
}

static void test_random_skips_expired_keys(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "dead", 50, T0 + 1);
    set(db, SLICE_LIT("alive"), -1);
    clock_freeze(T0 + 2);
    for (int i = 0; i < 20; i++) {
        struct dict_node *o = db_random(db);
        assert_non_null(o);
        assert_false(db_is_expired(o, clock_ms()));
    }
    /* Only expired keys: it gives up and reports none, having deleted
     * what it met. */
    struct db *db1 = &f->ks.dbs[1];
    fill(db1, "dead", 5, T0 + 1);
    assert_null(db_random(db1));
    assert_true(db_size(db1) < 5);
}

static void test_find_stamps_lru_clock(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    f->ks.lru_clock = 1000;
    set(db, SLICE_LIT("k"), -1);
    assert_int_equal(obj_lru(find(db, SLICE_LIT("k"))), 1000);
    f->ks.lru_clock = 1234;
    assert_int_equal(obj_lru(db_peek(db, SLICE_LIT("k"))), 1000); /* peek leaves it */
    assert_int_equal(obj_lru(find(db, SLICE_LIT("k"))), 1234);
}

/* ---- volatile_count accounting ---- */

static void test_volatile_count_accounting(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    struct slice k = SLICE_LIT("k");

    set(db, k, T0 + 1000); /* insert with a deadline */
    assert_int_equal(db->volatile_count, 1);
    set_expire(db, k, T0 + 2000); /* change it */
    assert_int_equal(db->volatile_count, 1);
    assert_int_equal(obj_expire(find(db, k)), T0 + 2000);
    set_expire(db, k, -1); /* PERSIST */
    assert_int_equal(db->volatile_count, 0);
    set_expire(db, k, -1); /* PERSIST again: nothing to remove */
    assert_int_equal(db->volatile_count, 0);
    set_expire(db, k, T0 + 3000); /* EXPIRE on a persistent key */
    assert_int_equal(db->volatile_count, 1);
    set(db, k, -1); /* overwrite without a deadline (SET) */
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(obj_expire(find(db, k)), -1);
    set(db, k, T0 + 4000); /* overwrite with one (SET EX) */
    assert_int_equal(db->volatile_count, 1);
    set(db, k, T0 + 5000); /* overwrite one deadline with another */
    assert_int_equal(db->volatile_count, 1);
    assert_true(db_delete(db, k)); /* DEL */
    assert_int_equal(db->volatile_count, 0);

    /* db_take (RENAME, MOVE) and db_insert elsewhere. */
    set(db, k, T0 + 1000);
    struct db_ref ref;
    assert_non_null(db_find(db, k, &ref));
    struct dict_node *o = db_take(db, &ref);
    assert_int_equal(db->volatile_count, 0);
    struct db *db2 = &f->ks.dbs[2];
    assert_null(db_find(db2, k, &ref));
    db_insert(db2, &ref, o);
    assert_int_equal(db2->volatile_count, 1);

    /* Lazy and active expiry both decrement it. */
    fill(db, "v", 10, T0 + 10);
    fill(db, "p", 10, -1);
    assert_int_equal(db->volatile_count, 10);
    clock_freeze(T0 + 11);
    char buf[64];
    assert_null(find(db, key_of(buf, sizeof(buf), "v", 3)));
    assert_int_equal(db->volatile_count, 9);
    rehash_all(db); /* see test_cycle_reclaims_during_rehash */
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(db2->volatile_count, 1); /* not due yet */
    assert_int_equal(db_size(db), 10);

    /* A flush resets it. */
    fill(db, "w", 10, T0 + 100000);
    assert_int_equal(db_flush(db), 20);
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(db_size(db), 0);
}

/* Adding a deadline grows the entry, so db_set_expire() gets a new block
 * from obj_with_expire(), which frees the old one: putting the new block in
 * the chain must not read the freed one (Asan shows it). Many keys, so
 * chains are long and the moved entry is often mid-chain. */
static void test_set_expire_moves_entry_safely(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    char buf[64];
    fill(db, "k", 500, -1);
    for (int i = 0; i < 500; i += 2) {
        set_expire(db, key_of(buf, sizeof(buf), "k", i), T0 + 1000 + i);
    }
    for (int i = 1; i < 500; i += 2) {
        set_expire(db, key_of(buf, sizeof(buf), "k", i), -1); /* no deadline: no move */
    }
    for (int i = 0; i < 500; i += 4) {
        set_expire(db, key_of(buf, sizeof(buf), "k", i), -1); /* shrinks: moves again */
    }
    assert_int_equal(db_size(db), 500);
    assert_int_equal(db->volatile_count, 125);
    for (int i = 0; i < 500; i++) {
        struct dict_node *o = find(db, key_of(buf, sizeof(buf), "k", i));
        assert_non_null(o);
        assert_int_equal(obj_expire(o), i % 4 == 2 ? T0 + 1000 + i : -1);
    }
}

/* The same accounting, checked against a model over seeded random ops. */
static void test_volatile_count_random_ops(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    enum { KEYS = 64 };
    long long model[KEYS]; /* -2 absent, -1 no deadline, else the deadline */
    for (int i = 0; i < KEYS; i++) {
        model[i] = -2;
    }
    struct rng r;
    rng_seed(&r, 7);
    char buf[64];
    for (int step = 0; step < 20000; step++) {
        int i = (int)rng_below(&r, KEYS);
        struct slice k = key_of(buf, sizeof(buf), "k", i);
        long long when = T0 + 1 + (long long)rng_below(&r, 1000);
        struct db_ref ref;
        switch (rng_below(&r, 5)) {
        case 0:
            set(db, k, -1);
            model[i] = -1;
            break;
        case 1:
            set(db, k, when);
            model[i] = when;
            break;
        case 2: {
            struct dict_node *o = db_find(db, k, &ref);
            if (o != NULL) {
                long long w = rng_below(&r, 2) ? when : -1;
                db_set_expire(db, &ref, o, w);
                model[i] = w;
            }
            break;
        }
        case 3:
            assert_int_equal(db_delete(db, k), model[i] != -2);
            model[i] = -2;
            break;
        default: {
            struct dict_node *o = db_find(db, k, &ref);
            assert_int_equal(o != NULL, model[i] != -2);
            if (o != NULL) assert_int_equal(obj_expire(o), model[i]);
            break;
        }
        }
        size_t live = 0, vol = 0;
        for (int j = 0; j < KEYS; j++) {
            live += model[j] != -2;
            vol += model[j] >= 0;
        }
        assert_int_equal(db_size(db), live);
        assert_int_equal(db->volatile_count, vol);
    }
}

/* ---- Active expiry ---- */

/* 10,000 keys past their deadline are reclaimed by the cycle alone, with
 * no lookups; the 1,000 keys without a deadline are left alone. */
static void test_cycle_reclaims_without_lookups(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "vol", 10000, T0 + 1000);
    fill(db, "keep", 1000, -1);
    rehash_all(db);
    clock_freeze(T0 + 1001);

    struct expire_cycle_stats st;
    int cycles = 0;
    while (db_size(db) > 1000 && cycles < 10) {
        cycle(&f->ks, NO_BUDGET, &st);
        cycles++;
    }
    assert_int_equal(db_size(db), 1000);
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(f->ks.stats.expired_keys, 10000);
    assert_int_equal(f->expired_calls, 10000);
    assert_true(cycles <= 3);

    /* Nothing left to sample: a further cycle visits no key. */
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(st.sampled, 0);
    assert_int_equal(st.expired, 0);
    char buf[64];
    for (int i = 0; i < 1000; i++) {
        assert_non_null(find(db, key_of(buf, sizeof(buf), "keep", i)));
    }
}

/* The same right after the inserts, while the table is still being resized
 * (the cron has not finished the rehash): keys still in the old table must
 * be reclaimed too. */
static void test_cycle_reclaims_during_rehash(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "vol", 10000, T0 + 1000);
    clock_freeze(T0 + 1001);
    bool was_rehashing = dict_is_rehashing(&db->dict);

    struct expire_cycle_stats st;
    for (int cycles = 0; cycles < 10 && db_size(db) > 0; cycles++) {
        cycle(&f->ks, NO_BUDGET, &st);
    }
    if (was_rehashing && db_size(db) > 0) {
        print_message("db.c: %zu of 10000 expired keys left after 10 cycles while the dict "
                      "was rehashing\n",
                      db_size(db));
    }
    assert_int_equal(db_size(db), 0);
}

/* The cycle never visits keys without a deadline: with none, it samples
 * nothing, however big the table. */
static void test_cycle_ignores_persistent_keys(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "keep", 5000, -1);
    rehash_all(db);
    clock_freeze(T0 + 1000000);
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(st.sampled, 0);
    assert_int_equal(db_size(db), 5000);

    /* A few live volatile keys among them: only those are sampled (a
     * round takes 20 samples at effort 1). */
    fill(db, "vol", 10, T0 + 2000000);
    cycle(&f->ks, NO_BUDGET, &st);
    assert_true(st.sampled > 0 && st.sampled <= 20);
    assert_int_equal(st.expired, 0);
    assert_int_equal(db_size(db), 5010);
}

/* A round samples each volatile key at most once: Redis takes
 * min(20, volatile keys) samples, it does not go round the marks again to
 * make up 20 (with one volatile key in a big table, that would scan the
 * whole bitmap 20 times per tick). */
static void test_cycle_samples_each_key_once_per_round(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "keep", 5000, -1);
    fill(db, "vol", 10, T0 + 2000000);
    rehash_all(db);
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.sampled, 10);
}

/* While more than 10% of a sample is stale the cycle goes on: one cycle
 * with no time cap clears a db where every volatile key is expired. With
 * few stale keys (1%), it stops after the first round. */
static void test_cycle_stale_percentage_loop(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "dead", 4000, T0 + 10);
    rehash_all(db);
    clock_freeze(T0 + 11);
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(st.expired, 4000);
    assert_int_equal(db_size(db), 0);
    assert_false(st.time_cap_reached);
    /* 100% stale: the average moves 5% of the way per cycle. */
    assert_int_equal(f->ks.stats.expired_stale_perc_x100, 500);

    /* 1% stale: 40 expired among 4,000. */
    struct db *db1 = &f->ks.dbs[1];
    fill(db1, "live", 3960, T0 + 1000000);
    fill(db1, "dead", 40, T0 + 20);
    rehash_all(db1);
    clock_freeze(T0 + 21);
    cycle(&f->ks, NO_BUDGET, &st);
    assert_true(st.sampled >= 20);
    assert_true(st.sampled < 200); /* a round or two, not the whole db */
    assert_true(st.expired <= st.sampled / 5);
    assert_true(db_size(db1) > 3960 - 1);
}

/* With no time budget the cycle stops at its first clock check (every 16
 * rounds) and counts the cap. */
static void test_cycle_time_cap(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "dead", 10000, T0 + 10);
    rehash_all(db);
    clock_freeze(T0 + 11);
    struct expire_cycle_stats st;
    cycle(&f->ks, 0, &st);
    assert_true(st.time_cap_reached);
    assert_int_equal(f->ks.stats.expired_time_cap_reached_count, 1);
    assert_true(st.expired > 0);
    assert_true(st.expired < 10000);
    assert_int_equal(db_size(db), 10000 - (size_t)st.expired);
}

/* avg_ttl: the first sample sets it, later ones move it by 2%; it is reset
 * when the db has no volatile keys left. */
static void test_cycle_avg_ttl(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    fill(db, "a", 100, T0 + 10000);
    rehash_all(db);
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_true(st.sampled > 0);
    assert_int_equal(db->avg_ttl, 10000);

    /* Now every key has 60,000 ms left: avg = 10000/50*49 + 60000/50. */
    db_flush(db);
    fill(db, "a", 100, T0 + 10000);
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(db->avg_ttl, 10000);
    for (int i = 0; i < 100; i++) {
        char buf[64];
        set_expire(db, key_of(buf, sizeof(buf), "a", i), T0 + 60000);
    }
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(db->avg_ttl, 10000 / 50 * 49 + 60000 / 50);

    /* All expired: the db has no volatile key left, the average resets. */
    clock_freeze(T0 + 60001);
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(db->volatile_count, 0);
    assert_int_equal(db->avg_ttl, 0);
}

/* Marks left behind by keys that lost their deadline (PERSIST, DEL, SET)
 * are cleared as the walk meets them; they must not stop one cycle from
 * reaching an expired key further on. Here 40 stale marks share one bitmap
 * word with the one live mark. */
static void test_cycle_stale_marks_do_not_hide_keys(void **state)
{
    struct fixture *f = *state;
    struct db *db = &f->ks.dbs[0];
    char buf[64];
    fill(db, "p", 40, T0 + 1000000);
    set(db, SLICE_LIT("due"), T0 + 10);
    rehash_all(db);
    assert_true(db->dict.t[0].size <= 64);
    for (int i = 0; i < 40; i++) {
        set_expire(db, key_of(buf, sizeof(buf), "p", i), -1);
    }
    assert_int_equal(db->volatile_count, 1);
    clock_freeze(T0 + 11);
    struct expire_cycle_stats st;
    cycle(&f->ks, NO_BUDGET, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(db_size(db), 40);
}

/* Every db is visited, not only the first. */
static void test_cycle_covers_every_db(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < DB_COUNT; i++) {
        fill(&f->ks.dbs[i], "x", 100, T0 + 5);
    }
    clock_freeze(T0 + 6);
    struct expire_cycle_stats st;
    for (int c = 0; c < 5; c++) {
        cycle(&f->ks, NO_BUDGET, &st);
    }
    for (int i = 0; i < DB_COUNT; i++) {
        assert_int_equal(db_size(&f->ks.dbs[i]), 0);
    }
    assert_int_equal(f->ks.stats.expired_keys, 100 * DB_COUNT);
}

/* SET's overwrite in place: only when the new entry would have the old
 * one's size class and layout; the result reads as a fresh entry would. */
static void test_overwrite_string_in_place(void **state)
{
    (void)state;
    char buf[UTIL_LL_STR_SIZE];
    struct slice key = SLICE_LIT("k");
    struct dict_node *o = obj_create_string(key, SLICE_LIT("abc"), -1);
    obj_set_lru(o, 12345);
    assert_true(obj_overwrite_string(o, SLICE_LIT("xyz"), -1));
    struct slice v = obj_string(o, buf);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.ptr, "xyz", 3);
    assert_int_equal(obj_enc(o), OBJ_ENC_EMBSTR);
    assert_int_equal(obj_lru(o), 12345);
    assert_int_equal(obj_expire(o), -1);
    /* An integer of the same size class becomes "int". */
    if (obj_overwrite_string(o, SLICE_LIT("42"), -1)) {
        assert_int_equal(obj_enc(o), OBJ_ENC_INT);
        assert_int_equal(obj_string(o, buf).len, 2);
        assert_memory_equal(obj_string(o, buf).ptr, "42", 2);
    }
    /* A deadline appearing or going changes the layout: refused, unchanged. */
    assert_false(obj_overwrite_string(o, SLICE_LIT("abc"), T0));
    assert_int_equal(obj_expire(o), -1);
    obj_destroy(o);

    o = obj_create_string(key, SLICE_LIT("abc"), T0);
    assert_true(obj_overwrite_string(o, SLICE_LIT("def"), T0 + 5));
    assert_int_equal(obj_expire(o), T0 + 5);
    assert_memory_equal(obj_string(o, buf).ptr, "def", 3);
    assert_false(obj_overwrite_string(o, SLICE_LIT("def"), -1));
    /* A much longer value needs a bigger block: refused, unchanged. */
    char big[300];
    memset(big, 'b', sizeof(big));
    assert_false(obj_overwrite_string(o, (struct slice){big, sizeof(big)}, T0 + 5));
    assert_memory_equal(obj_string(o, buf).ptr, "def", 3);
    obj_destroy(o);

    /* A long raw value over one of the same length stays raw. */
    o = obj_create_string(key, (struct slice){big, sizeof(big)}, -1);
    big[0] = 'c';
    assert_true(obj_overwrite_string(o, (struct slice){big, sizeof(big)}, -1));
    assert_int_equal(obj_enc(o), OBJ_ENC_RAW);
    v = obj_string(o, buf);
    assert_int_equal(v.len, sizeof(big));
    assert_memory_equal(v.ptr, big, sizeof(big));
    obj_destroy(o);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_lazy_expiry_on_find),
        T(test_expires_after_deadline_not_at_it),
        T(test_key_without_ttl_never_expires),
        T(test_delete_of_expired_key_reports_missing),
        T(test_random_skips_expired_keys),
        T(test_find_stamps_lru_clock),
        T(test_set_expire_moves_entry_safely),
        T(test_volatile_count_accounting),
        T(test_volatile_count_random_ops),
        T(test_cycle_reclaims_without_lookups),
        T(test_cycle_reclaims_during_rehash),
        T(test_cycle_ignores_persistent_keys),
        T(test_cycle_samples_each_key_once_per_round),
        T(test_cycle_stale_percentage_loop),
        T(test_cycle_time_cap),
        T(test_cycle_avg_ttl),
        T(test_cycle_stale_marks_do_not_hide_keys),
        T(test_cycle_covers_every_db),
        cmocka_unit_test(test_overwrite_string_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
