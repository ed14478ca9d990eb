/* test_evict.c: eviction's arithmetic and choices (evict.c, db.c's
 * note_access) under a frozen clock.
 *
 * The LFU counter is checked against Redis's formulas (decay per elapsed
 * period, probabilistic logarithmic increment), directly and through
 * db_find(), which is where accesses are recorded. The candidate pool is
 * checked as a data structure (sorted, bounded, worst dropped first), and
 * evict_one() on a small keyspace whose entries get hand-set LRU/LFU
 * fields and deadlines: with more samples than keys the pool sees every key,
 * so the order of evictions is exact. */
#include "ember/evict.h"

#include "ember/config.h"
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
#define NOW_MIN   ((uint32_t)((T0 / 60000) & 0xFFFF))
#define LRU_NOW   1000000u /* the LRU clock, seconds */
#define DB_COUNT  2
#define SAMPLES   64 /* more than any test's key count: every key is seen */
#define TEST_KEYS 20

struct fixture {
    struct keyspace ks;
    struct evict_pool pool;
    long long touch_calls;
};

static struct fixture fx;

static void on_touch(struct db *db, struct slice key, void *ctx)
{
    (void)db;
    (void)key;
    ((struct fixture *)ctx)->touch_calls++;
}

static int setup(void **state)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hash_set_seed(seed);
    memset(&fx, 0, sizeof(fx));
    keyspace_init(&fx.ks, DB_COUNT, 42);
    fx.ks.on_touch = on_touch;
    fx.ks.hook_ctx = &fx;
    fx.ks.lru_clock = LRU_NOW;
    fx.ks.lfu_log_factor = 10;
    fx.ks.lfu_decay_time = 1;
    evict_pool_init(&fx.pool);
    clock_freeze(T0);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    evict_pool_clear(&fx.pool);
    keyspace_deinit(&fx.ks);
    clock_unfreeze();
    return 0;
}

static struct slice key_of(char *buf, size_t size, const char *prefix, int i)
{
    int n = snprintf(buf, size, "%s:%d", prefix, i);
    return (struct slice){buf, (size_t)n};
}

/* Adds prefix:i to db `dbid` with deadline `expire` (-1: none) and sets its
 * lru field afterwards (db_insert stamps its own). */
static struct dict_node *add(int dbid, const char *prefix, int i, long long expire, uint32_t lru)
{
    char buf[64];
    struct slice key = key_of(buf, sizeof(buf), prefix, i);
    struct db *db = &fx.ks.dbs[dbid];
    struct db_ref ref;
    assert_null(db_find(db, key, &ref));
    struct dict_node *o = obj_create_string(key, (struct slice){"value", 5}, expire);
    db_insert(db, &ref, o);
    obj_set_lru(o, lru);
    return o;
}

static bool exists(int dbid, const char *prefix, int i)
{
    char buf[64];
    return db_peek(&fx.ks.dbs[dbid], key_of(buf, sizeof(buf), prefix, i)) != NULL;
}

static struct dict_node *access_key(int dbid, const char *prefix, int i)
{
    char buf[64];
    struct db_ref ref;
    return db_find(&fx.ks.dbs[dbid], key_of(buf, sizeof(buf), prefix, i), &ref);
}

static bool evict(int policy)
{
    size_t freed;
    return evict_one(&fx.ks, &fx.pool, policy, SAMPLES, &freed);
}

/* ---- LFU arithmetic ---- */

static void test_lfu_decay(void **state)
{
    (void)state;
    uint32_t now = 1000;
    assert_int_equal(evict_lfu_decayed(now << 8 | 20, now, 1), 20);
    assert_int_equal(evict_lfu_decayed((now - 3) << 8 | 20, now, 1), 17);
    assert_int_equal(evict_lfu_decayed((now - 9) << 8 | 20, now, 3), 17);
    assert_int_equal(evict_lfu_decayed((now - 8) << 8 | 20, now, 3), 18); /* whole periods */
    assert_int_equal(evict_lfu_decayed((now - 300) << 8 | 20, now, 1), 0);
    assert_int_equal(evict_lfu_decayed((now - 300) << 8 | 20, now, 0), 20); /* no decay */
    /* The minutes wrap at 2^16, as Redis's LFUTimeElapsed counts them. */
    assert_int_equal(evict_lfu_decayed(65530u << 8 | 20, 4, 1), 20 - 9);
    assert_int_equal(evict_lfu_init(T0), NOW_MIN << 8 | EVICT_LFU_INIT_VAL);
    assert_int_equal(evict_lfu_minutes(T0 - (T0 % 60000) + 59999), NOW_MIN);
    assert_int_equal(evict_lfu_minutes(T0 - (T0 % 60000) + 60000), (NOW_MIN + 1) & 0xFFFF);
}

static void test_lfu_log_incr(void **state)
{
    (void)state;
    /* At or below the start value every hit counts. */
    assert_int_equal(evict_lfu_log_incr(0, 10, 0.999), 1);
    assert_int_equal(evict_lfu_log_incr(5, 10, 0.999), 6);
    /* Above it, with probability 1 / ((c - 5) * factor + 1): 1/101 at 15. */
    assert_int_equal(evict_lfu_log_incr(15, 10, 0.0098), 16);
    assert_int_equal(evict_lfu_log_incr(15, 10, 0.0100), 15);
    assert_int_equal(evict_lfu_log_incr(15, 0, 0.999), 16); /* factor 0: always */
    assert_int_equal(evict_lfu_log_incr(255, 0, 0.0), 255); /* saturates */
    assert_int_equal(evict_lfu_log_incr(254, 0, 0.0), 255);
}

static void test_note_access_stamps_lru_clock(void **state)
{
    (void)state;
    struct dict_node *o = add(0, "k", 1, -1, LRU_NOW - 50);
    fx.ks.lfu = false;
    assert_ptr_equal(access_key(0, "k", 1), o);
    assert_int_equal(obj_lru(o), LRU_NOW);
    assert_int_equal(evict_score(&fx.ks, MAXMEMORY_ALLKEYS_LRU, o), 0);
    fx.ks.lru_clock = LRU_NOW + 7;
    assert_int_equal(evict_score(&fx.ks, MAXMEMORY_ALLKEYS_LRU, o), 7);
    /* The 24-bit clock wraps: idle time still comes out right. */
    obj_set_lru(o, OBJ_LRU_MAX - 2);
    fx.ks.lru_clock = 3;
    assert_int_equal(evict_score(&fx.ks, MAXMEMORY_ALLKEYS_LRU, o), 5);
}

static void test_note_access_counts_logarithmically(void **state)
{
    (void)state;
    fx.ks.lfu = true;
    struct dict_node *o = add(0, "k", 1, -1, evict_lfu_init(T0));
    for (int i = 0; i < 100; i++)
        assert_non_null(access_key(0, "k", 1));
    uint32_t after100 = obj_lru(o) & 0xFF;
    for (int i = 0; i < 900; i++)
        assert_non_null(access_key(0, "k", 1));
    uint32_t after1k = obj_lru(o) & 0xFF;
    /* Redis's table for lfu-log-factor 10: about 10 after 100 hits and 18
     * after 1000 (counted from 0; ours start at 5, and the first steps are
     * certain). */
    assert_in_range(after100, 8, 18);
    assert_in_range(after1k, 14, 30);
    assert_true(after1k > after100);
    assert_int_equal(obj_lru(o) >> 8, NOW_MIN);
    /* lfu-log-factor 0 counts every hit. */
    fx.ks.lfu_log_factor = 0;
    struct dict_node *p = add(0, "k", 2, -1, evict_lfu_init(T0));
    for (int i = 0; i < 10; i++)
        access_key(0, "k", 2);
    assert_int_equal(obj_lru(p) & 0xFF, 15);
}

static void test_note_access_decays_first(void **state)
{
    (void)state;
    fx.ks.lfu = true;
    fx.ks.lfu_log_factor = 0; /* the increment is certain: the decay is what we see */
    struct dict_node *o = add(0, "k", 1, -1, (NOW_MIN - 3) << 8 | 20);
    access_key(0, "k", 1);
    assert_int_equal(obj_lru(o), NOW_MIN << 8 | (20 - 3 + 1));
    /* Long idle: the counter bottoms out at 0 before the hit. */
    obj_set_lru(o, (NOW_MIN - 1000) << 8 | 20);
    access_key(0, "k", 1);
    assert_int_equal(obj_lru(o) & 0xFF, 1);
    /* The score is 255 minus the decayed counter, without changing it. */
    obj_set_lru(o, (NOW_MIN - 2) << 8 | 10);
    assert_int_equal(evict_score(&fx.ks, MAXMEMORY_ALLKEYS_LFU, o), 255 - 8);
    assert_int_equal(obj_lru(o), (NOW_MIN - 2) << 8 | 10);
}

/* ---- The pool ---- */

static void insert(int score, const char *name)
{
    /* The name's address stands in for the entry's. */
    evict_pool_insert(&fx.pool, (unsigned long long)score, 0, (struct slice){name, strlen(name)},
                      name);
}

static void assert_pool(const int *scores, int n)
{
    for (int i = 0; i < EVICT_POOL_SIZE; i++) {
        assert_int_equal(fx.pool.e[i].used, i < n);
        if (i < n) assert_int_equal(fx.pool.e[i].score, scores[i]);
    }
    assert_int_equal(evict_pool_best(&fx.pool), n - 1);
}

static void test_pool_sorted_and_bounded(void **state)
{
    (void)state;
    assert_int_equal(evict_pool_best(&fx.pool), -1);
    insert(5, "a");
    insert(1, "b");
    insert(9, "c");
    insert(3, "d");
    assert_pool((int[]){1, 3, 5, 9}, 4);
    assert_memory_equal(fx.pool.e[3].key, "c", 1);
    /* Fill it: 16 candidates, then a worse one is refused and a better one
     * pushes the worst out. */
    char names[12][16];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof(names[i]), "n%d", i);
        insert(100 + i, names[i]);
    }
    assert_int_equal(evict_pool_best(&fx.pool), EVICT_POOL_SIZE - 1);
    insert(0, "worse");
    assert_int_equal(fx.pool.e[0].score, 1);
    insert(4, "mid");
    assert_int_equal(fx.pool.e[0].score, 3); /* 1 dropped */
    assert_int_equal(fx.pool.e[1].score, 4);
    assert_memory_equal(fx.pool.e[1].key, "mid", 3);
    /* Equal scores go before the ones already there. */
    insert(100, "tie");
    assert_memory_equal(fx.pool.e[EVICT_POOL_SIZE - 13].key, "tie", 3);
    /* Every buffer is still owned by exactly one entry. */
    for (int i = 0; i < EVICT_POOL_SIZE; i++) {
        for (int j = i + 1; j < EVICT_POOL_SIZE; j++)
            assert_ptr_not_equal(fx.pool.e[i].cached, fx.pool.e[j].cached);
    }
}

static void test_pool_duplicates_and_removal(void **state)
{
    (void)state;
    insert(5, "a");
    insert(7, "b");
    insert(2, "a"); /* sampled again: replaces its entry */
    assert_pool((int[]){2, 7}, 2);
    evict_pool_remove(&fx.pool, 0);
    assert_pool((int[]){7}, 1);
    assert_memory_equal(fx.pool.e[0].key, "b", 1);
    /* Long keys are copied to the heap (the teardown's clear frees them:
     * the Asan build would report a leak otherwise). */
    char longkey[EVICT_POOL_CACHED_KEY + 50];
    memset(longkey, 'x', sizeof(longkey));
    evict_pool_insert(&fx.pool, 9, 1, (struct slice){longkey, sizeof(longkey)}, longkey);
    int best = evict_pool_best(&fx.pool);
    assert_int_equal(fx.pool.e[best].klen, sizeof(longkey));
    assert_ptr_not_equal(fx.pool.e[best].key, fx.pool.e[best].cached);
    assert_int_equal(fx.pool.e[best].dbid, 1);
    insert(1, "c");
    insert(3, "d");
    evict_pool_clear(&fx.pool);
    assert_int_equal(evict_pool_best(&fx.pool), -1);
    evict_pool_insert(&fx.pool, 9, 1, (struct slice){longkey, sizeof(longkey)}, longkey);
}

/* ---- Choosing and deleting ---- */

static void test_allkeys_lru_evicts_idlest_first(void **state)
{
    (void)state;
    for (int i = 0; i < TEST_KEYS; i++)
        add(i % DB_COUNT, "k", i, -1, LRU_NOW - (uint32_t)i * 10); /* k:i idle 10*i s */
    for (int n = 1; n <= 5; n++) {
        assert_true(evict(MAXMEMORY_ALLKEYS_LRU));
        assert_false(exists((TEST_KEYS - n) % DB_COUNT, "k", TEST_KEYS - n));
    }
    assert_int_equal(fx.ks.stats.evicted_keys, 5);
    assert_int_equal(fx.touch_calls, 5);
    for (int i = 0; i < TEST_KEYS - 5; i++)
        assert_true(exists(i % DB_COUNT, "k", i));
    /* A key read since it was sampled is not evicted on its stale score. */
    access_key(14 % DB_COUNT, "k", 14);
    assert_true(evict(MAXMEMORY_ALLKEYS_LRU));
    assert_true(exists(14 % DB_COUNT, "k", 14));
    assert_false(exists(13 % DB_COUNT, "k", 13));
}

static void test_allkeys_lfu_evicts_least_used_first(void **state)
{
    (void)state;
    fx.ks.lfu = true;
    for (int i = 0; i < TEST_KEYS; i++)
        add(0, "k", i, -1, NOW_MIN << 8 | (uint32_t)(10 + i)); /* k:0 is the coldest */
    /* A high counter decays: last updated 100 minutes ago, it is now 0. */
    add(0, "stale", 0, -1, (NOW_MIN - 100) << 8 | 29);
    assert_true(evict(MAXMEMORY_ALLKEYS_LFU));
    assert_false(exists(0, "stale", 0));
    for (int n = 0; n < 3; n++) {
        assert_true(evict(MAXMEMORY_ALLKEYS_LFU));
        assert_false(exists(0, "k", n));
    }
    assert_true(exists(0, "k", 3));
}

static void test_volatile_policies_spare_keys_without_deadline(void **state)
{
    (void)state;
    static const int policies[] = {MAXMEMORY_VOLATILE_LRU, MAXMEMORY_VOLATILE_LFU,
                                   MAXMEMORY_VOLATILE_RANDOM, MAXMEMORY_VOLATILE_TTL};
    for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
        for (int i = 0; i < 10; i++) {
            add(i % DB_COUNT, "plain", i, -1, LRU_NOW - 1000); /* idlest, but no TTL */
            add(i % DB_COUNT, "vol", i, T0 + 100000, LRU_NOW);
        }
        for (int i = 0; i < 10; i++)
            assert_true(evict(policies[p]));
        assert_false(evict(policies[p]));
        for (int i = 0; i < 10; i++) {
            assert_true(exists(i % DB_COUNT, "plain", i));
            assert_false(exists(i % DB_COUNT, "vol", i));
            char buf[64];
            assert_true(db_delete(&fx.ks.dbs[i % DB_COUNT], key_of(buf, sizeof(buf), "plain", i)));
        }
        evict_pool_clear(&fx.pool);
    }
}

static void test_volatile_ttl_evicts_nearest_deadline_first(void **state)
{
    (void)state;
    for (int i = 0; i < TEST_KEYS; i++)
        add(i % DB_COUNT, "k", i, T0 + 1000 * (TEST_KEYS - i), LRU_NOW);
    add(0, "plain", 0, -1, LRU_NOW);
    for (int n = 1; n <= TEST_KEYS; n++) {
        assert_true(evict(MAXMEMORY_VOLATILE_TTL));
        assert_false(exists((TEST_KEYS - n) % DB_COUNT, "k", TEST_KEYS - n));
        if (n < TEST_KEYS)
            assert_true(exists((TEST_KEYS - n - 1) % DB_COUNT, "k", TEST_KEYS - n - 1));
    }
    assert_false(evict(MAXMEMORY_VOLATILE_TTL));
    assert_true(exists(0, "plain", 0));
}

static void test_random_policies_empty_the_dbs(void **state)
{
    (void)state;
    for (int i = 0; i < TEST_KEYS; i++)
        add(i % DB_COUNT, "k", i, i < 5 ? T0 + 100000 : -1, LRU_NOW);
    for (int i = 0; i < 5; i++)
        assert_true(evict(MAXMEMORY_VOLATILE_RANDOM));
    assert_false(evict(MAXMEMORY_VOLATILE_RANDOM));
    assert_int_equal(db_size(&fx.ks.dbs[0]) + db_size(&fx.ks.dbs[1]), TEST_KEYS - 5);
    for (int i = 5; i < TEST_KEYS; i++)
        assert_true(evict(MAXMEMORY_ALLKEYS_RANDOM));
    assert_false(evict(MAXMEMORY_ALLKEYS_RANDOM));
    assert_int_equal(fx.ks.stats.evicted_keys, TEST_KEYS);
}

static void test_ghosts_and_nothing_to_evict(void **state)
{
    (void)state;
    assert_false(evict(MAXMEMORY_ALLKEYS_LRU)); /* empty keyspace */
    add(0, "k", 1, -1, LRU_NOW);
    assert_false(evict(MAXMEMORY_NOEVICTION));
    /* A candidate deleted since it was sampled is skipped. */
    insert(1000000, "gone");
    assert_true(evict(MAXMEMORY_ALLKEYS_LRU));
    assert_false(exists(0, "k", 1));
    assert_int_equal(evict_pool_best(&fx.pool), -1);
    /* Expired keys are candidates like any other (as in Redis). */
    add(1, "late", 1, T0 - 1, LRU_NOW);
    assert_true(evict(MAXMEMORY_VOLATILE_TTL));
    assert_int_equal(db_size(&fx.ks.dbs[1]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lfu_decay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lfu_log_incr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_access_stamps_lru_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_access_counts_logarithmically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_access_decays_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_sorted_and_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_duplicates_and_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allkeys_lru_evicts_idlest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allkeys_lfu_evicts_least_used_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volatile_policies_spare_keys_without_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_volatile_ttl_evicts_nearest_deadline_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_policies_empty_the_dbs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ghosts_and_nothing_to_evict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
